/** One event of a `text/event-stream`, as the WHATWG HTML standard's parser dispatches it. */
export interface ServerSentEvent {
  /**
   * The event's own `id:` field. (Browsers report the last id seen instead; a consumer
   * that reconnects keeps the last one itself, and can tell events with an id apart.)
   */
  id?: string;
  /** `message` when the server named none. */
  event: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  /** The reconnection delay the server asked for most recently, in milliseconds. */
  retry?: number;
}

const BOM = '\uFEFF';

/**
 * Parses a `text/event-stream` body as it arrives. Chunks may split anywhere: inside a UTF-8
 * character, between `\r` and `\n`, inside a field name. Comments (`:` lines, used as
 * heartbeats) are skipped; an event with no `data` is not dispatched, as browsers do.
 */
export async function* parseEventStream(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder('utf-8');
  const lines = new LineSplitter();
  const event = new EventBuilder();
  let first = true;
  for await (const chunk of chunks) {
    let text = decoder.decode(chunk, { stream: true });
    if (first && text !== '') {
      if (text.startsWith(BOM)) text = text.slice(1);
      first = false;
    }
    for (const line of lines.push(text)) {
      const dispatched = event.line(line);
      if (dispatched !== undefined) yield dispatched;
    }
  }
  // An event not followed by a blank line is incomplete: the standard discards it.
  lines.push(decoder.decode());
}

/** Splits text into lines ending in `\r\n`, `\n` or `\r`, across pushes. */
class LineSplitter {
  private pending = '';
  /** A `\r` ended the last push: a `\n` starting the next one belongs to it. */
  private afterCarriageReturn = false;

  push(text: string): string[] {
    let input = text;
    if (this.afterCarriageReturn && input.startsWith('\n')) input = input.slice(1);
    if (input !== '') this.afterCarriageReturn = false;
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const char = input[i];
      if (char !== '\n' && char !== '\r') continue;
      lines.push(this.pending + input.slice(start, i));
      this.pending = '';
      if (char === '\r') {
        if (i + 1 === input.length) this.afterCarriageReturn = true;
        else if (input[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.pending += input.slice(start);
    return lines;
  }
}

/** Accumulates the fields of one event until a blank line dispatches it. */
class EventBuilder {
  private data: string[] = [];
  private type = '';
  private id: string | undefined;
  private retry: number | undefined;

  line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.field(field, value);
    return undefined;
  }

  private field(field: string, value: string): void {
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private dispatch(): ServerSentEvent | undefined {
    const { data, type, id, retry } = this;
    this.data = [];
    this.type = '';
    this.id = undefined;
    if (data.length === 0) return undefined;
    const event: ServerSentEvent = { event: type === '' ? 'message' : type, data: data.join('\n') };
    if (id !== undefined && id !== '') event.id = id;
    if (retry !== undefined) event.retry = retry;
    return event;
  }
}
