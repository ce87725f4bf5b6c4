import type { ComponentChildren } from 'preact';
import { LiveHead } from '../web/console-layout';
import type { EmulatedMessage } from './emulator-gateway';

/** The outbox's last messages, a row each; `operators` adds the operator each one went to. */
export function emulatorRows(messages: readonly EmulatedMessage[], operators: boolean) {
  return (
    <>
      {messages.map((m) => (
        <tr>
          <td>{m.at.toISOString().slice(0, 19).replace('T', ' ')}</td><td>{m.toMasked}</td><td>{m.from}</td>
          {operators ? <td>{m.via ?? 'emulator'}</td> : null}<td>{m.parts}</td><td>{m.text}</td>
        </tr>
      ))}
    </>
  );
}

/** The page's body (what it shows, what this viewer does not see, the rows refreshed every 3 s) and its head. */
export function emulatorPage(props: { title: string; help: string; notice?: string; heads: readonly string[]; rows: ComponentChildren }) {
  const body = (
    <>
      <h1>{props.title}</h1>
      <p>{props.help}</p>
      {props.notice ? <p>{props.notice}</p> : null}
      <table>
        <thead><tr>{props.heads.map((head) => <th scope="col">{head}</th>)}</tr></thead>
        <tbody data-live-src="/console/sms-emulator/rows" data-live-every="3000">{props.rows}</tbody>
      </table>
    </>
  );
  return { body, head: <LiveHead seconds={10} /> };
}
