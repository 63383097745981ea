import type { ComponentChildren } from 'preact';
import { navigate } from '../route.ts';

interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  current?: boolean;
  testid?: string;
  title?: string;
}

/** An in-app link: a real `<a>` (new tab, copy address work) that navigates without a reload. */
export function Link({ href, children, class: className, current, testid, title }: LinkProps) {
  function follow(event: MouseEvent): void {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  }
  return (
    <a href={href} class={className} aria-current={current ? 'page' : undefined} data-testid={testid} title={title} onClick={follow}>
      {children}
    </a>
  );
}
