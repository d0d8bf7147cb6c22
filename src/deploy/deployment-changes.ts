import type { Deployment } from './deployment.js';

export type DeploymentListener = (deployment: Deployment) => void;

/**
 * In-process fan-out of every recorded change of every deployment (the controller's
 * `onChange`): a deploy stage follows its deployment's timeline here. Listeners are called
 * synchronously and must not throw; one that throws is removed, so a broken subscriber
 * cannot stop a deployment.
 */
export class DeploymentChanges {
  private readonly listeners = new Set<DeploymentListener>();

  subscribe(listener: DeploymentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(deployment: Deployment): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(deployment);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}
