import { resolve } from 'node:path';
import { parseConfig, readEnvironment } from '../config/config';
import { generateSecrets } from '../config/generated-secrets';
import { loadTexts } from '../texts/texts';
import { checkScreens } from '../ussd/check-flows';
import { formatProblem, loadFlows } from '../ussd/load-flows';

/**
 * `npm run flows:check [-- --quiet]`: structure, translations, and every screen of every flow in
 * every language rendered as the channel sends it, against the configured screen limits.
 */
function main(): number {
  const quiet = process.argv.includes('--quiet');
  // Only the USSD settings matter here: secrets are filled in so a checkout without .env can check.
  const config = parseConfig({ ...generateSecrets(), ...readEnvironment() });
  const { set, problems } = loadFlows(resolve(config.ussd.flowsDir), config.ussd.entryFlow);
  const texts = loadTexts(resolve(config.ussd.templatesDir));
  const screens = checkScreens(set, texts, config.ussd.limits, config.ussd.keys);
  const all = [...problems, ...screens.problems];

  if (!quiet) {
    console.log(['flow', 'node', 'lang', 'variant', 'page', 'length', 'encoding', 'limit', ''].join('\t'));
    for (const row of screens.rows) {
      console.log([row.flow, row.node, row.language, row.variant, `${row.page}/${row.pages}`, row.length, row.encoding, row.limit, row.ok ? 'ok' : 'TOO LONG'].join('\t'));
    }
  }
  const reviews = texts.languages
    .map(({ code }) => `${code}: ${Object.entries(texts.meta(code)).map(([ns, meta]) => `${ns} ${meta.review_status}`).join(', ') || 'no files'}`)
    .join('; ');
  console.log(`\n${set.flows.size} flows, ${[...set.flows.values()].reduce((n, flow) => n + flow.nodes.size, 0)} nodes, ${screens.rows.length} pages rendered in ${texts.languages.length} languages (${reviews})`);
  for (const problem of all) console.error(`error: ${formatProblem(problem)}`);
  console.log(all.length ? `flows:check: ${all.length} problem(s)` : 'flows:check: ok');
  return all.length ? 1 : 0;
}

process.exitCode = main();
