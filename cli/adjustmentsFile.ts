import { readFile } from 'node:fs/promises';
import { type AdjustmentOverrides, parseAdjustmentOverrides } from '../domain/rpi/adjustments.js';
import { CliError, EXIT } from './exitCodes.js';

/** The adjustment values of `--adjustments`: a JSON file, checked field by field. */
export async function readAdjustments(path: string): Promise<AdjustmentOverrides> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
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
