import { availableParallelism, cpus, platform, release } from 'node:os';

export interface Machine {
  cpu: string;
  cpus: number;
  node: string;
  os: string;
}

/** What the figures were measured on, printed above every table and kept in the JSON line. */
export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

export function formatMachine(machine: Machine): string {
  return `Machine: ${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}, ${machine.os}`;
}
