/** Initials in a circle: a face for every name without loading images. */
export function Avatar({ name, size = 'small' }: { name: string; size?: 'small' | 'large' }) {
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase())
    .join('');
  return (
    <span class={`avatar avatar-${size}`} aria-hidden="true">
      {initials || '?'}
    </span>
  );
}
