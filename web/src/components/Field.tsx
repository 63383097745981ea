import type { InputHTMLAttributes } from 'preact';
import type { Role } from '@callstack/protocol';
import { ROLE_LABELS } from '../roles.ts';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onInput'> {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  hint?: string;
}

/** A labelled text input, with an optional hint the input is described by. */
export function Field({ id, label, value, onValue, hint, ...input }: FieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} value={value} onInput={(event) => onValue(event.currentTarget.value)} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** A new password: the rules the edge enforces (protocol's `Password`) stated up front. */
export function NewPasswordField({ hint, ...props }: Omit<FieldProps, 'type' | 'autocomplete'>) {
  return <Field type="password" autocomplete="new-password" hint={`At least 10 characters.${hint ? ` ${hint}` : ''}`} required {...props} />;
}

interface RoleSelectProps {
  id: string;
  label: string;
  value: Role;
  onRole: (role: Role) => void;
  disabled?: boolean;
  /** Hides the label visually (inside table rows); screen readers still read it. */
  hideLabel?: boolean;
  testid?: string;
}

export function RoleSelect({ id, label, value, onRole, disabled, hideLabel, testid }: RoleSelectProps) {
  return (
    <div class="field">
      <label for={id} class={hideLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      <select id={id} data-testid={testid} value={value} disabled={disabled} onChange={(event) => onRole(event.currentTarget.value as Role)}>
        {(Object.keys(ROLE_LABELS) as Role[]).map((role) => (
          <option key={role} value={role}>
            {ROLE_LABELS[role]}
          </option>
        ))}
      </select>
    </div>
  );
}
