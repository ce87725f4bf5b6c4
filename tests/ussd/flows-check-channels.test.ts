import { spawnSync } from 'node:child_process';

describe('npm run flows:check for each USSD channel', () => {
  const run = (env: Record<string, string> = {}, args: string[] = []) =>
    spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/flows-check.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    });

  it('renders every page for AT and for Kannel (160 GSM-7 / 70 UCS-2), Bambara included, all within', () => {
    const result = run();
    expect(result.status).toBe(0);
    const sections = result.stdout.split('\n# channel ');
    expect(sections.map((section) => section.split(':')[0]).slice(1)).toEqual(['africastalking', 'kannel']);
    const kannel = sections[2]?.split('\n').filter((line) => /\t(GSM-7|UCS-2)\t/.test(line)) ?? [];
    expect(kannel.some((row) => row.split('\t')[2] === 'bm' && row.split('\t')[6] === 'UCS-2' && row.split('\t')[7] === '70')).toBe(true);
    expect(kannel.every((row) => row.endsWith('\tok'))).toBe(true);
  });

  it('names the screen and the channel when a screen does not fit behind Kannel only', () => {
    const result = run({ USSD_KANNEL_SCREEN_LIMIT_UCS2: '20' }, ['--quiet']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^error: flows\/\w+\.yaml \w+\/\w+: bm (screen|refused input) page \d+: \d+ characters of UCS-2, over the limit of 20 on the kannel channel$/m,
    );
    expect(result.stderr).not.toMatch(/over the limit of 80$/m);
  });
});
