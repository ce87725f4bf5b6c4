import { h } from 'preact';
import { BarChart, FunnelChart } from '../../src/web/charts';
import { PostForm, UploadForm } from '../../src/web/form';
import { renderFragment, renderPage } from '../../src/web/render';
import { CountsSection, Table } from '../../src/web/table';

/** Text that would be markup, or end an attribute in either kind of quotes, if it were written raw. */
const HOSTILE = `<script>'x'</script>" onmouseover="alert(1)" ' onfocus='alert(2)`;

describe('web/ components', () => {
  it('escape every text and attribute: no tag, and no quote that ends an attribute, comes from the data', () => {
    const html = renderFragment([h('p', { title: HOSTILE }, HOSTILE), h('input', { name: 'q', value: HOSTILE })]);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('" onmouseover');
    const escaped = `&lt;script>'x'&lt;/script>&quot; onmouseover=&quot;alert(1)&quot; ' onfocus='alert(2)`;
    // Every attribute is in double quotes, so a single quote inside one is only a character.
    expect(html).toBe(`<p title="${escaped}">${escaped}</p><input name="q" value="${escaped}"/>`);
  });

  it('put the CSRF token in every form that posts, or in the query of an upload', () => {
    const form = renderFragment(h(PostForm, { action: '/console/x', csrfToken: 'tok"en' }, h('button', null, 'Go')));
    expect(form).toBe('<form method="post" action="/console/x"><input type="hidden" name="_csrf" value="tok&quot;en"/><button>Go</button></form>');
    const upload = renderFragment(h(UploadForm, { action: '/console/up', csrfToken: 'a+b/c' }));
    expect(upload).toBe('<form method="post" action="/console/up?_csrf=a%2Bb%2Fc" enctype="multipart/form-data"></form>');
  });

  it('write a whole page with its doctype', () => {
    expect(renderPage(h('html', { lang: 'fr' }, h('body', null)))).toBe('<!doctype html><html lang="fr"><body></body></html>');
  });

  it('write empty SVG shapes self-closed, and leave a shape with content as it is', () => {
    const svg = renderFragment(h('svg', null, h('rect', { x: 1 }), h('rect', { class: 'a>b' }), h('line', null), h('rect', null, h('title', null, 'T'))));
    expect(svg).toBe('<svg><rect x="1"/><rect class="a>b"></rect><line/><rect><title>T</title></rect></svg>');
  });

  it("draw the funnel and the bars with their labels escaped and their numbers on them", () => {
    const funnel = renderFragment(h(FunnelChart, { rows: [{ key: 'sent', label: HOSTILE, value: 3 }], title: 'T<' }));
    expect(funnel).toContain('aria-label="T&lt;"><title>T&lt;</title>');
    expect(funnel).toMatch(/<rect class="sent" x="150" y="8" width="420.0" height="26"\/><text x="576.0" y="26" font-size="13">3</);
    expect(funnel).not.toContain('<script>');
    const bars = renderFragment(h(BarChart, { points: [{ label: '2026-01-02', value: 0, shown: '<5' }], title: 'Per day', description: 'd' }));
    expect(bars).toContain('<title>2026-01-02: &lt;5</title>');
    expect(bars).toContain('height="0.0" fill="#1e3a8a"/><text');
  });

  it('write tables: a title per column (null for none), counts the largest first, "-" for none', () => {
    expect(renderFragment(h(Table, { columns: ['A', null] }, h('tr', null)))).toBe(
      '<table><thead><tr><th scope="col">A</th><th></th></tr></thead><tbody><tr></tr></tbody></table>',
    );
    const counts = renderFragment(h(CountsSection, { title: 'By region', counts: { kayes: 2, segou: 5, mopti: '<5' }, label: (key: string) => key.toUpperCase() }));
    expect(counts).toBe(
      '<section><h2>By region</h2><table><tbody><tr><th scope="row">SEGOU</th><td>5</td></tr><tr><th scope="row">KAYES</th><td>2</td></tr>' +
        '<tr><th scope="row">MOPTI</th><td>&lt;5</td></tr></tbody></table></section>',
    );
    expect(renderFragment(h(CountsSection, { title: 'None', counts: {} }))).toContain('<tbody><tr><td>-</td></tr></tbody>');
  });
});
