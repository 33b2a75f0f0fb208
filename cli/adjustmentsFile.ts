import { readFile } from 'node:fs/promises';
import { text as readAll } from 'node:stream/consumers';
import { type AdjustmentOverrides, parseAdjustmentOverrides } from '../domain/rpi/adjustments.js';
import { CliError, EXIT } from './exitCodes.js';

/** The adjustment values of `--adjustments`: a JSON file (`-`: standard input), checked field by field. */
export async function readAdjustments(path: string): Promise<AdjustmentOverrides> {
  let text: string;
  try {
    text = path === '-' ? await readAll(process.stdin) : await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the adjustments file ${path}`, EXIT.FAILURE, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`the adjustments file ${path} is not JSON`, EXIT.USAGE, { cause: error });
  }
  return parseAdjustmentOverrides(json);
}
