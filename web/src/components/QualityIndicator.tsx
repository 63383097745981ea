import type { QualityUpdate } from '@callstack/protocol';
import { qualityLevel, warningTexts } from '../quality.ts';

/** Bars and label of the edge's MOS for this device's received audio (a call or a meeting). */
export function QualityIndicator({ quality }: { quality: QualityUpdate | null }) {
  if (!quality) {
    return (
      <span class="quality" data-testid="quality-indicator" data-level="unknown">
        Measuring quality…
      </span>
    );
  }
  const { level, bars, label } = qualityLevel(quality.mos);
  const mos = quality.mos.toFixed(1);
  return (
    <span class={`quality quality-${level}`} data-testid="quality-indicator" data-level={level} data-mos={quality.mos} title={`MOS ${mos} of 4.5`}>
      <span class="quality-bars" aria-hidden="true">
        {[1, 2, 3, 4].map((bar) => (
          <span key={bar} class={bar <= bars ? 'on' : ''} />
        ))}
      </span>
      <span>
        {label} · MOS {mos}
      </span>
    </span>
  );
}

/** One line naming each figure past its threshold; nothing while all is well. */
export function QualityWarning({ quality }: { quality: QualityUpdate | null }) {
  if (!quality || quality.warnings.length === 0) return null;
  return (
    <p class="quality-warning" role="alert" data-testid="quality-warning">
      {warningTexts(quality).join(' · ')}
    </p>
  );
}
