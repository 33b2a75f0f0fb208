// moto_server for tests: the same starter the chaos suite uses.
export * from '../../chaos/moto.js';
