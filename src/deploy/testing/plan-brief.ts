import type { DeploymentStep } from '../strategies/step.js';

/** Steps as tables read them: the status, the kind, and `:point` or `:weight`. */
export function brief(steps: readonly DeploymentStep[]): string[] {
  return steps.map((step) => {
    const detail =
      step.kind === 'run-hooks' ? `:${step.point}` : step.kind === 'shift' ? `:${step.weight}` : '';
    return `${step.status} ${step.kind}${detail}`;
  });
}
