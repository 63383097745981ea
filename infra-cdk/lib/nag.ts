/** cdk-nag acknowledgements: one exact rule id (with its [finding] where the rule reports several) and a reason. */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const RULE_ID = /^AwsSolutions-[A-Z0-9]+\d(\[.+\])?$/;

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (!RULE_ID.test(id)) throw new Error(`not an exact AwsSolutions rule id: ${id}`);
  if (reason.trim().length < 20) throw new Error(`acknowledgement of ${id} needs a real reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
