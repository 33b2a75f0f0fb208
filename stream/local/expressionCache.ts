import { dependencyModule, forThread, inProcess, type ModulePatch } from './modulePatches.js';

/** What of a dynalite expression parser (a PEG.js module) the patch below changes. */
interface ExpressionParser {
  parse(text: string, options: { context: ParseContext }): unknown;
}

/** The context dynalite parses an expression in (its `validations/index.js`). */
interface ParseContext {
  readonly attrNames?: Record<string, string>;
  readonly attrVals?: Record<string, unknown>;
  readonly unusedAttrNames?: Record<string, true>;
  readonly unusedAttrVals?: Record<string, true>;
  readonly isKeyCondition?: boolean;
}

/**
 * dynalite parses every expression of every request with a PEG parser: in a CPU profile of
 * `matchstream ingest` (1,000 teams), a quarter of its thread's work was parsing the append's
 * `attribute_not_exists(aggregate_id)`, the same text each time (bench/README.md, "Less work
 * for the embedded dynalite per request, and the relay handed its commits"). This keeps what
 * a parse gave for an expression with its names and values (a key under 2 KB; at most 1,000
 * kept, all dropped past that), and gives a later request of the same a copy of it (the
 * caller may change what it gets), with the same side effects on the context: the names and
 * values the expression used are no longer unused. A parse that fails (an error message, or a
 * throw) is not kept, so each request gets its own error.
 *
 * Self-contained on purpose: a server thread runs its source text (`expressionCachePatches`).
 */
export function parseOnce(parser: ExpressionParser): void {
  const patched = Symbol.for('matchstream.parseOnce');
  const marked = parser as ExpressionParser & Record<symbol, unknown>;
  if (marked[patched]) return;
  marked[patched] = true;
  const parse = parser.parse;
  const kept = new Map<string, { result: unknown; names: string[]; values: string[] }>();
  parser.parse = function (this: unknown, text, options) {
    const context = options.context;
    const key = JSON.stringify([
      text,
      context.attrNames ?? null,
      context.attrVals ?? null,
      context.isKeyCondition === true,
    ]);
    const hit = kept.get(key);
    if (hit) {
      for (const name of hit.names) delete context.unusedAttrNames?.[name];
      for (const value of hit.values) delete context.unusedAttrVals?.[value];
      return structuredClone(hit.result);
    }
    const unusedNames = Object.keys(context.unusedAttrNames ?? {});
    const unusedValues = Object.keys(context.unusedAttrVals ?? {});
    const result = parse.call(this, text, options);
    if (key.length > 2048 || typeof result !== 'object' || result === null) return result;
    let copy: unknown;
    try {
      copy = structuredClone(result);
    } catch {
      return result;
    }
    if (kept.size >= 1000) kept.clear();
    kept.set(key, {
      result: copy,
      names: unusedNames.filter((n) => !(context.unusedAttrNames && n in context.unusedAttrNames)),
      values: unusedValues.filter((v) => !(context.unusedAttrVals && v in context.unusedAttrVals)),
    });
    return result;
  };
}

const PARSERS = ['conditionParser', 'updateParser', 'projectionParser'];

/** The patch as a server thread takes it: for each of dynalite's parsers, its source and module. */
export function expressionCachePatches(): readonly ModulePatch[] {
  return PARSERS.map((name) => forThread(parseOnce, dependencyModule('dynalite', `./db/${name}`)));
}

/** The patch, in this process. */
export function cacheParsedExpressions(): void {
  for (const name of PARSERS) inProcess(parseOnce, dependencyModule('dynalite', `./db/${name}`));
}
