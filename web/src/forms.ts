/** Turning a failed protocol schema check into one sentence a person can act on. */
import * as v from 'valibot';

/**
 * The first problem, named by the field's visible label. Schema messages written for people
 * (e.g. the password's `use at least 10 characters`) are kept; valibot's defaults are not.
 */
export function formProblem(issues: readonly v.BaseIssue<unknown>[], labels: Record<string, string>): string {
  const issue = issues[0];
  if (!issue) return 'Check the form.';
  const path = v.getDotPath(issue) ?? '';
  const label = labels[path] ?? 'This field';
  if (issue.input === '' || issue.input === undefined) return `${label} is required.`;
  if (!issue.message.startsWith('Invalid ')) return `${label}: ${issue.message}.`;
  if (issue.type === 'min_length') return `${label} is too short.`;
  if (issue.type === 'max_length') return `${label} is too long.`;
  return `${label} is not valid.`;
}
