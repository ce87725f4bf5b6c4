/** The console's one stylesheet, served at /console/assets/console.css. */
export const CONSOLE_CSS = [
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111}',
  'header{background:#1e3a8a;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}\n',
  'header a,header button{color:#fff}nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}',
  'main{max-width:72rem;padding:1rem}\n',
  'label{display:block;margin-top:.75rem;font-weight:600}',
  'input,select,textarea{display:block;box-sizing:border-box;font:inherit;padding:.4rem;width:100%;max-width:24rem;margin-top:.25rem}',
  'textarea{max-width:40rem}button{display:block;font:inherit;padding:.4rem 1rem;margin:1rem 0;cursor:pointer}\n',
  '.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}',
  '.error{color:#b91c1c;font-weight:600}\n',
  'table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;text-align:left;padding:.3rem}',
  ':focus-visible{outline:3px solid #f59e0b}\n',
  'form.inline{display:inline}form.inline button{display:inline;margin:0;background:none;border:1px solid #fff}\n',
  'tr.overdue{background:#fef2f2}tr.overdue td:first-child{border-left:6px solid #b91c1c}',
  '.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#e5e7eb}\n',
  '.badge.child_in_danger{background:#b91c1c;color:#fff}.badge.urgent{background:#f59e0b}',
  '.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end}.filters label{margin:0}\n',
  '.bars rect{fill:#1e3a8a}.bars .queued{fill:#60a5fa}.bars .delivered{fill:#15803d}.bars .failed{fill:#b91c1c}',
  '.bars .optedOut,.bars .cancelled,.bars .unknown{fill:#6b7280}.bars .correct{fill:#15803d}fieldset{margin-top:.75rem}',
  '.inline-options label{display:inline-block;margin-right:1rem;font-weight:400}.inline-options input{display:inline;width:auto}\n',
  '.phone{font-size:1.6rem;font-weight:700;letter-spacing:.05em}.cards{display:flex;gap:1rem;flex-wrap:wrap}',
  '.card{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;min-width:10rem}\n',
  '.pager ul,.counts ul{list-style:none;display:flex;gap:.75rem;flex-wrap:wrap;padding:0;margin:.5rem 0}',
  '.pager a,.pager strong{display:inline-block;padding:.2rem .5rem}',
].join('');

/**
 * Parts of a page that refresh themselves: an element with data-live-src="/console/..." gets its
 * HTML from that URL every data-live-every ms (default 5000). Pages add a meta refresh in
 * <noscript> for browsers without JavaScript (LiveHead). Served at /console/assets/live.js.
 */
export const LIVE_SCRIPT = [
  "(function(){if(!window.fetch)return;document.querySelectorAll('[data-live-src]').forEach(function(el){\n",
  "var every=Number(el.getAttribute('data-live-every'))||5000;",
  "setInterval(function(){fetch(el.getAttribute('data-live-src'),{credentials:'same-origin'})",
  '.then(function(r){return r.ok?r.text():null}).then(function(html){if(html!==null){el.innerHTML=html;',
  "var s=document.getElementById('live-updated');if(s)s.textContent=new Date().toLocaleTimeString();}})",
  '.catch(function(){});},every);});})();',
].join('');
