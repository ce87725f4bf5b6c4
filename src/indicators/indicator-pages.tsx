import { Router, type Request, type Response } from 'express';
import { AppError } from '../platform/app-error';
import { allow, staffOf, type StaffContext } from '../staff/access';
import { consoleForbidden } from '../staff/console-forbidden';
import { BarChart } from '../web/charts';
import type { ConsoleShell } from '../web/console-shell';
import { Table } from '../web/table';
import { INDICATOR_READERS, periodOf, readIndicators, type IndicatorDeps, type IndicatorPeriod } from './indicator-api';
import { labelsFor } from './indicator-labels';
import { monthsBetween } from './indicator-sources';
import { ALL_REGIONS, AXES, type Axis, type IndicatorRow } from './indicators';

/** The print stylesheet: no navigation or filters, each axis on a page of its own. */
const PRINT_CSS = `@media print {
  header, nav, .skip, .filters, .links { display: none !important; }
  body { font-size: 11pt; color: #000; background: #fff; }
  section.axis { break-before: page; }
  section.axis:first-of-type { break-before: auto; }
  table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #777; padding: 2pt 4pt; }
  tr, svg { break-inside: avoid; }
}`;

const shown = (row: IndicatorRow): string => {
  if (row.value === null) return '-';
  if (typeof row.value !== 'number') return row.value;
  if (row.indicator.startsWith('share_') || row.indicator.endsWith('_rate')) return `${Math.round(row.value * 100)} %`;
  if (row.indicator.startsWith('median_')) return `${row.value} min`;
  return String(row.value);
};
const withN = (row: IndicatorRow): string => (row.denominator === null ? shown(row) : `${shown(row)} (n = ${row.denominator})`);

const Value = (props: { row: IndicatorRow | undefined }) => <td>{props.row ? withN(props.row) : '-'}</td>;

function AxisSection(props: { axis: Axis; rows: readonly IndicatorRow[]; months: readonly string[]; l: (key: string) => string }) {
  const { axis, rows, months, l } = props;
  const mine = rows.filter((row) => row.axis === axis);
  const keyOf = (row: IndicatorRow): string => `${row.indicator}|${row.breakdown}`;
  const lines = [...new Set(mine.map(keyOf))];
  const cell = (key: string, month: string, region: string): IndicatorRow | undefined =>
    mine.find((row) => keyOf(row) === key && row.month === month && row.region === region);
  const label = (key: string): string => {
    const [indicator = '', breakdown = ''] = key.split('|');
    return breakdown ? `${l(indicator)}, ${l('breakdown')} ${breakdown === 'not_recorded' ? l('not_recorded') : breakdown}` : l(indicator);
  };
  const last = months.at(-1) ?? '';
  const regions = [...new Set(mine.filter((row) => row.region !== ALL_REGIONS && row.month === last).map((row) => row.region))].sort();
  const regional = lines.filter((key) => regions.some((region) => cell(key, last, region)));
  const headline = lines[0] ?? '';
  const points = months.map((month) => {
    const row = cell(headline, month, ALL_REGIONS);
    return { label: month, value: typeof row?.value === 'number' ? row.value : 0, shown: row ? shown(row) : '-' };
  });
  return (
    <section class="axis" aria-labelledby={`axis-${axis}`}>
      <h2 id={`axis-${axis}`}>{l(axis)}</h2>
      {axis === 'prevention' ? <p>{l('learn_topics_opened')}</p> : null}
      <h3>{l('all')}</h3>
      <Table columns={[l('indicator'), ...months]}>
        {lines.map((key) => (
          <tr><th scope="row">{label(key)}</th>{months.map((month) => <Value row={cell(key, month, ALL_REGIONS)} />)}</tr>
        ))}
      </Table>
      {headline ? (
        <BarChart
          points={points}
          title={`${label(headline)}, ${l('all')}`}
          description={points.map((p) => `${p.label}: ${p.shown}`).join(', ')}
        />
      ) : null}
      {regions.length ? (
        <>
          <h3>{`${l('by_region')}, ${last}`}</h3>
          <Table columns={[l('region'), ...regional.map(label)]}>
            {regions.map((region) => (
              <tr>
                <th scope="row">{region}</th>
                {regional.map((key) => <Value row={cell(key, last, region)} />)}
              </tr>
            ))}
          </Table>
        </>
      ) : null}
    </section>
  );
}

/** /console/indicators and its printable view: the four axes, each a section; the same rows as the export. */
export function indicatorPages(deps: IndicatorDeps & { shell: ConsoleShell }): Router {
  const router = Router();
  router.get('/console/indicators/print.css', allow({ public: true }), (_req, res) => res.type('text/css').send(PRINT_CSS));
  const show = (print: boolean) => async (req: Request, res: Response): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const l = labelsFor(deps.shell.languageOf(req));
    let given: IndicatorPeriod;
    try {
      given = periodOf(req.query, deps.now());
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      res.status(400);
      deps.shell.page(req, res, l('title'), <><h1>{l('title')}</h1><p class="error" role="alert">{err.message}</p></>, staff);
      return;
    }
    const rows = await readIndicators(deps, req, staff.user._id, given, print ? 'print' : 'page');
    const months = monthsBetween(given.from, given.to);
    const query = `from=${given.from}&to=${given.to}`;
    const title = print ? l('print_title') : l('title');
    const head = <link rel="stylesheet" href="/console/indicators/print.css" />;
    deps.shell.page(req, res, title, (
      <>
        <h1>{`${l('title')}: ${given.from} - ${given.to}`}</h1>
        <form method="get" class="filters" action={print ? '/console/indicators/print' : '/console/indicators'}>
          <label>{l('from')}<input type="month" name="from" value={given.from} /></label>
          <label>{l('to')}<input type="month" name="to" value={given.to} /></label>
          <button>{l('show')}</button>
        </form>
        <p class="links">
          <a href={`/api/v1/indicators?${query}&format=csv`} download>{l('csv')}</a>{' | '}
          <a href={`/api/v1/indicators?${query}&format=json`}>{l('json')}</a>{' | '}
          <a href={`/console/indicators/print?${query}`}>{l('print')}</a>
          {staff.user.roles.includes('admin') ? (
            <>{' | '}<a href={`/api/v1/case-reports/export.csv?${query}`} download>{l('htcds')}</a></>
          ) : null}
        </p>
        <p>{l('suppressed_note')}</p>
        {AXES.map((axis) => <AxisSection axis={axis} rows={rows} months={months} l={l} />)}
      </>
    ), staff, head);
  };
  router.get('/console/indicators', allow({ roles: INDICATOR_READERS }, { html: true }), show(false));
  router.get('/console/indicators/print', allow({ roles: INDICATOR_READERS }, { html: true }), show(true));
  router.use('/console/indicators', consoleForbidden(deps.shell));
  return router;
}
