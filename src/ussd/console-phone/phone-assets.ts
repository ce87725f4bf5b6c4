/** The phone's look, served at /console/assets/phone.css (the console's CSP allows only its own files). */
export const PHONE_CSS = [
  '.phone-bench{display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start}.phone-settings{max-width:22rem}',
  '.phone-dials button{display:inline-block;margin:.5rem .5rem 0 0}\n',
  '.handset{width:17rem;background:#1f2937;border-radius:1.6rem;padding:1.2rem 1rem 1.4rem;color:#fff}',
  '.handset label{color:#fff;margin-top:.5rem}.handset input{max-width:none;font-family:ui-monospace,monospace}\n',
  // 22 columns, 8 lines in view; a longer page scrolls as the handset's arrows scroll it.
  '.phone-screen{font:15px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre;background:#c7d6b5;color:#111;',
  'box-sizing:content-box;width:calc(22ch + 2px);height:10.4em;overflow-y:auto;margin:0 auto;padding:.3rem .5rem;border-radius:.3rem}\n',
  '.screen-info{font-size:.8rem;color:#e5e7eb;text-align:center;margin:.4rem 0 0}',
  '.keypad{display:grid;grid-template-columns:repeat(3,1fr);gap:.4rem;margin-top:.8rem}\n',
  '.keypad button{margin:0;padding:.5rem 0;font-size:1.1rem;border-radius:.6rem;border:0;background:#e5e7eb;color:#111}',
  '.keypad .call,.keypad .clear,.keypad .end{font-size:.85rem}.keypad .call{background:#15803d;color:#fff}',
  '.keypad .end{background:#b91c1c;color:#fff}.keypad .clear{background:#9ca3af}\n',
  '.phone-effects{max-width:28rem}.phone-effects .none{color:#6b7280}',
].join('');

/**
 * The keypad without a round trip, served at /console/assets/phone.js: digits, * and # go to the input
 * line, "clear" takes the last one off; call, end and the dial buttons post the form (CSRF field
 * included) for JSON and show the next screen. Without JavaScript the same form posts and the page
 * comes back with the screen.
 */
export const PHONE_SCRIPT = [
  "(function(){var form=document.getElementById('phone');if(!form||!window.fetch)return;\n",
  "var field=function(name){return form.elements.namedItem(name)};var input=field('input');",
  "var screen=document.getElementById('phone-screen');var info=document.getElementById('phone-info');",
  "var effects=document.getElementById('phone-effects');var busy=false;\n",
  "function show(state){field('call').value=state.call;field('path').value=state.path;field('screen').value=state.screen;",
  'input.value=state.input;',
  "screen.textContent=state.lines.join('\\n');screen.scrollTop=0;info.textContent=state.info;",
  "if(state.fresh)effects.textContent='';var none=effects.querySelector('.none');",
  'if(state.effects.length&&none)none.remove();\n',
  "state.effects.forEach(function(text){var li=document.createElement('li');li.textContent=text;effects.appendChild(li);});",
  "if(!effects.children.length){var li=document.createElement('li');li.className='none';",
  "li.textContent=effects.getAttribute('data-none');effects.appendChild(li);}}\n",
  "form.addEventListener('submit',function(event){event.preventDefault();",
  "var key=event.submitter&&event.submitter.name==='key'?event.submitter.value:'call';\n",
  'if(/^[0-9*#]$/.test(key)){input.value+=key;input.focus();return;}',
  "if(key==='clear'){input.value=input.value.slice(0,-1);input.focus();return;}if(busy)return;busy=true;\n",
  "var body=new URLSearchParams(new FormData(form));body.set('key',key);",
  "fetch(form.action,{method:'POST',credentials:'same-origin',headers:{accept:'application/json'},body:body})",
  ".then(function(r){if(r.redirected){location.href=r.url;return;}if(!r.ok)throw new Error('HTTP '+r.status);",
  'return r.json().then(show);})\n',
  ".catch(function(err){info.textContent=form.getAttribute('data-failed')+' ('+err.message+')';})",
  '.then(function(){busy=false;});});})();',
].join('');
