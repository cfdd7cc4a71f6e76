import type { AlertSeverity, AlertState } from './alert.entity';

/** A condition that holds now for one (kind, subject), as the evaluation pass found it. */
export interface AlertCondition {
  kind: string;
  subjectKey: string;
  stage: number;
  stageLabel: string;
  severity: AlertSeverity;
  title: string;
  detail: Record<string, unknown>;
  ownerTeam: string | null;
  ownerEmails: string[];
  ownerChannels: string[];
  tags: string[];
}

/** The stored fields of an alert that transitions read and write. */
export interface AlertStatus {
  state: AlertState;
  stage: number;
  episode: number;
  notifiedStage: number;
  silencedUntil: Date | null;
}

export interface Transition {
  /** The alert's status after this pass. */
  next: AlertStatus;
  /** A notification to send now, if any. */
  notify: 'raised' | 'resolved' | null;
  opened: boolean;
  resolved: boolean;
}

/**
 * What one pass does to one alert. A stage is notified once per episode (the first time it is
 * reached while the alert is open). Acknowledged: no more notifications until it resolves.
 * Silenced: none until the date; then it is open again and a stage reached meanwhile is sent. A
 * stage going down (renewed, but still inside a threshold) is not a crossing. When the condition is
 * gone the alert resolves, and those told about it are told it is over.
 */
export function transition(current: AlertStatus | undefined, condition: AlertCondition | undefined, now: Date): Transition | null {
  if (!condition) {
    if (!current || current.state === 'resolved') return null;
    return { next: { ...current, state: 'resolved', silencedUntil: null }, notify: current.notifiedStage > 0 ? 'resolved' : null, opened: false, resolved: true };
  }
  if (!current || current.state === 'resolved') {
    const episode = current ? current.episode + 1 : 1;
    return { next: { state: 'open', stage: condition.stage, episode, notifiedStage: condition.stage, silencedUntil: null }, notify: 'raised', opened: true, resolved: false };
  }
  let { state, notifiedStage, silencedUntil } = current;
  if (state === 'silenced' && (!silencedUntil || silencedUntil.getTime() <= now.getTime())) {
    state = 'open';
    silencedUntil = null;
  }
  if (condition.stage < current.stage) notifiedStage = Math.min(notifiedStage, condition.stage);
  let notify: Transition['notify'] = null;
  if (state === 'open' && condition.stage > notifiedStage) {
    notify = 'raised';
    notifiedStage = condition.stage;
  }
  return { next: { state, stage: condition.stage, episode: current.episode, notifiedStage, silencedUntil }, notify, opened: false, resolved: false };
}
