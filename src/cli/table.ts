import pc from 'picocolors';
import type { Colors } from './api-command.js';

export interface Cell {
  text: string;
  style?: (text: string) => string;
}

/** Columns padded by their visible width, colors applied after padding. */
export function formatTable(
  header: readonly string[],
  rows: readonly Cell[][],
  colors: Colors = pc,
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.text.length ?? 0)),
  );
  const render = (cells: readonly Cell[]): string =>
    cells
      .map((cell, column) => {
        const last = column === cells.length - 1;
        const text = last ? cell.text : cell.text.padEnd(widths[column] ?? 0);
        return cell.style === undefined ? text : cell.style(text);
      })
      .join('  ')
      .trimEnd();
  const head = render(header.map((title) => ({ text: title, style: colors.bold })));
  return [head, ...rows.map(render)].join('\n');
}
