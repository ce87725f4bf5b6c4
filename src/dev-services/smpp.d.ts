/** The part of the npm package `smpp` (0.5.1, untyped) the SMSC simulator uses. */
declare module 'smpp' {
  import type { Server as NetServer, Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';

  /** A decoded PDU: its command and whatever fields and TLVs it carries, by name. */
  export interface Pdu {
    readonly command: string;
    readonly command_status: number;
    readonly sequence_number: number;
    [field: string]: unknown;
    response(options?: Record<string, unknown>): Pdu;
  }

  export interface Session extends EventEmitter {
    readonly socket: Socket;
    send(pdu: Pdu, responseCallback?: (pdu: Pdu) => void): boolean;
    deliver_sm(options: Record<string, unknown>, responseCallback?: (pdu: Pdu) => void): boolean;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    on(event: string, listener: (pdu: Pdu) => void): this;
  }

  export interface Server extends NetServer {
    readonly sessions: Session[];
  }

  export function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
  export const errors: Readonly<Record<string, number>>;
  export const consts: Readonly<Record<string, Readonly<Record<string, number>>>>;
}
