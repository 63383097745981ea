import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { TileView } from '../../conference/index.ts';
import { Avatar } from '../Avatar.tsx';

/** One tile of the grid: a participant's camera (or avatar), or a screen share. */
export interface TileModel {
  key: string;
  peerId: string;
  /** The caption: `You` on your own tile. */
  name: string;
  /** The name for controls and labels ("Maximise Bob Brown"). */
  fullName: string;
  self: boolean;
  source: 'camera' | 'screen';
  /** The remote video producer the tile shows (its consumer follows the tile), null for ours. */
  producerId: string | null;
  track: MediaStreamTrack | null;
  videoOff: boolean;
  muted: boolean;
  speaking: boolean;
  consumerPaused: boolean;
}

interface TileProps {
  tile: TileModel;
  large: boolean;
  pinned: boolean;
  documentVisible: boolean;
  onView: (producerId: string, view: TileView) => void;
  onPin: (key: string) => void;
}

/** Video (or avatar), name, muted badge, maximise; reports to the conference how it is shown. */
export function Tile({ tile, large, pinned, documentVisible, onView, onPin }: TileProps) {
  const element = useRef<HTMLDivElement>(null);
  const stream = useMemo(() => (tile.track ? new MediaStream([tile.track]) : null), [tile.track]);
  const { producerId } = tile;

  // Tells the conference how this tile is shown: hidden tiles pause, the width picks the layer.
  useEffect(() => {
    const node = element.current;
    if (!node || !producerId) return;
    // Both observers report once as soon as they observe: nothing is assumed before that.
    let visible: boolean | undefined;
    let width: number | undefined;
    const report = () => {
      if (visible === undefined || width === undefined) return;
      onView(producerId, { visible: visible && documentVisible, width: Math.round(width * devicePixelRatio), large: large || tile.source === 'screen' });
    };
    const intersection = new IntersectionObserver((entries) => {
      visible = entries.at(-1)?.isIntersecting ?? visible;
      report();
    });
    const resize = new ResizeObserver((entries) => {
      width = entries.at(-1)?.contentRect.width ?? width;
      report();
    });
    intersection.observe(node);
    resize.observe(node);
    return () => {
      intersection.disconnect();
      resize.disconnect();
    };
  }, [producerId, large, documentVisible, onView, tile.source]);

  const classes = ['tile', large ? 'tile-large' : '', tile.speaking ? 'tile-speaking' : '', tile.source === 'screen' ? 'tile-screen' : ''];
  return (
    <div
      ref={element}
      class={classes.filter(Boolean).join(' ')}
      data-testid="tile"
      data-peer-id={tile.peerId}
      data-name={tile.name}
      data-self={tile.self}
      data-source={tile.source}
      data-producer-id={tile.producerId ?? ''}
      data-speaking={tile.speaking}
      data-muted={tile.muted}
      data-paused={tile.consumerPaused}
      data-large={large}
    >
      {stream && !tile.videoOff ? (
        <video
          class={`tile-video${tile.self && tile.source === 'camera' ? ' tile-mirrored' : ''}`}
          data-testid="tile-video"
          aria-label={tile.fullName}
          srcObject={stream}
          autoplay
          playsInline
          muted
        />
      ) : (
        <div class="tile-placeholder">
          <Avatar name={tile.name} size="large" />
        </div>
      )}
      <div class="tile-caption">
        <span class="tile-name">{tile.name}</span>
        {tile.muted && (
          <span class="badge badge-muted" data-testid="muted-badge">
            {tile.self ? 'You’re muted' : 'Muted'}
          </span>
        )}
      </div>
      {/* A tile shown large by itself (a shared screen) needs no Maximise. */}
      {(pinned || !large) && (
        <button
          type="button"
          class="btn btn-ghost btn-small tile-pin"
          data-testid="tile-pin"
          aria-pressed={pinned}
          aria-label={`${pinned ? 'Restore' : 'Maximise'} ${tile.fullName}`}
          onClick={() => onPin(tile.key)}
        >
          {pinned ? 'Restore' : 'Maximise'}
        </button>
      )}
    </div>
  );
}
