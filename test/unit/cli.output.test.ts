/**
 * Whatever the CLI prints from the server (job names, failure messages with a step's stderr tail, audit
 * details) reaches a terminal: control characters and bidirectional overrides in it must arrive escaped, so a
 * job cannot retitle the window, move the cursor, hide text or reorder what the user reads.
 */
import { processIo, UNSAFE_FOR_TERMINALS_CLASS } from '../../src/cli/output';
import { captureOutput } from '../support/logs';

function written(run: () => void): string {
  const output = captureOutput();
  try {
    run();
  } finally {
    output.restore();
  }
  return output.text();
}

const HOSTILE = 'ok\x1b]0;pwned\x07 \x1b[2J\rhidden \x9b31m red \u202Egnp.exe\x00end';

it.each([
  ['out', (text: string) => processIo.out(text)],
  ['err', (text: string) => processIo.err(text)],
  ['progress', (text: string) => processIo.progress!(text)],
])('%s escapes control characters and bidi overrides from the server', (_name, write) => {
  const out = written(() => write(`name: ${HOSTILE}`));
  const ownRewrite = '\r\x1b[2K'; // progress's own line rewrite is the CLI's, not the server's
  const text = out.startsWith(ownRewrite) ? out.slice(ownRewrite.length) : out;
  expect(text).not.toMatch(new RegExp(`[${UNSAFE_FOR_TERMINALS_CLASS}]`));
  expect(text).toContain('ok\\u001b]0;pwned\\u0007 \\u001b[2J\\u000dhidden \\u009b31m red \\u202egnp.exe\\u0000end');
});

it('keeps newlines and tabs (tables, multi-line messages), and JSON stays JSON', () => {
  const out = written(() => processIo.out('a\tb\nc'));
  expect(out).toBe('a\tb\nc\n');
  const json = written(() => processIo.out(JSON.stringify({ name: HOSTILE })));
  expect((JSON.parse(json) as { name: string }).name).toBe(HOSTILE);
});
