import { resolve } from 'node:path';
import { parseConfig, readEnvironment } from '../config/config';
import { generateSecrets } from '../config/generated-secrets';
import { loadTexts } from '../texts/texts';
import { channelLimitsOf, checkChannels } from '../ussd/check-flows';
import { formatProblem, loadFlows } from '../ussd/load-flows';

/**
 * `npm run flows:check [-- --quiet]`: structure, translations, and every screen of every flow in
 * every language rendered as each USSD channel sends it (AT's, and Kannel's SMPP behind which a screen is one
 * SMS), against that channel's screen limits. Rows are grouped by channel under a "# channel" line.
 */
function main(): number {
  const quiet = process.argv.includes('--quiet');
  // Only the USSD settings matter here: secrets are filled in so a checkout without .env can check.
  const config = parseConfig({ ...generateSecrets(), ...readEnvironment() });
  const { set, problems } = loadFlows(resolve(config.ussd.flowsDir), config.ussd.entryFlow);
  const texts = loadTexts(resolve(config.ussd.templatesDir));
  const channels = channelLimitsOf(config.ussd);
  const screens = checkChannels(set, texts, channels, config.ussd.keys);
  const all = [...problems, ...screens.problems];

  if (!quiet) {
    console.log(['flow', 'node', 'lang', 'variant', 'page', 'length', 'encoding', 'limit', ''].join('\t'));
    for (const { channel, limits } of channels) {
      console.log(`# channel ${channel}: ${limits.gsm7} GSM-7 / ${limits.ucs2} UCS-2 characters per screen`);
      for (const row of screens.rows.filter((candidate) => candidate.channel === channel)) {
        console.log([
          row.flow, row.node, row.language, row.variant, `${row.page}/${row.pages}`,
          row.length, row.encoding, row.limit, row.ok ? 'ok' : 'TOO LONG',
        ].join('\t'));
      }
    }
  }
  const reviews = texts.languages
    .map(
      ({ code }) =>
        `${code}: ${
          Object.entries(texts.meta(code))
            .map(([ns, meta]) => `${ns} ${meta.review_status}`)
            .join(', ') || 'no files'
        }`,
    )
    .join('; ');
  console.log(
    `\n${set.flows.size} flows, ${[...set.flows.values()].reduce((n, flow) => n + flow.nodes.size, 0)} nodes, ` +
      `${screens.rows.length} pages rendered in ${texts.languages.length} languages for ${channels.length} channels (${reviews})`,
  );
  for (const problem of all) console.error(`error: ${formatProblem(problem)}`);
  console.log(all.length ? `flows:check: ${all.length} problem(s)` : 'flows:check: ok');
  return all.length ? 1 : 0;
}

process.exitCode = main();
