import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { documentStoreContract } from '../../contract/documentStoreContract.js';

documentStoreContract('in memory', () => new InMemoryDocumentStore());
