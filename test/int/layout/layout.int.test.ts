import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface DiagramTool {
  layoutDiagram(): Promise<string>;
  withDiagram(readme: string, diagram: string): string;
}

describe("the README's layout", () => {
  it('draws the diagram the imports make now (npm run deps:graph)', async () => {
    const tool = (await import(join(root, 'tools/layoutDiagram.mjs'))) as DiagramTool;

    const diagram = await tool.layoutDiagram();

    expect(tool.withDiagram(readme, diagram)).toBe(readme);
  }, 60_000);

  it('names every top-level folder of code in its table, and no other', () => {
    const tracked = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.cjs'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((f) => f.includes('/'))
      .map((f) => f.split('/')[0] as string);
    const table = readme.slice(readme.indexOf('### Layout'), readme.indexOf('How the folders'));
    const named = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) =>
        [...(line.split('|')[1] ?? '').matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]),
      );

    expect(new Set(named)).toEqual(new Set(tracked));
  });
});
