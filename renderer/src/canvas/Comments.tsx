// Comments: notes and frames drawn behind the nodes, in graph coordinates.
// Drag the title bar to move one (with the nodes wholly inside it, as a frame
// carries them), the corner to resize it; double-click the title to edit its
// text; × deletes it. Saved in the file (`comments`), or inside a composite's
// definition when drawn on its inside.
import { memo, useState } from 'react';
import { useStore, useStoreApi, ViewportPortal } from '@xyflow/react';
import { editor, useEditor } from '../editor.js';
import type { GraphComment } from '../../../engine/graph/types.js';
import { dragInGraph as drag } from './pointerDrag.js';

const CommentFrame = memo(function CommentFrame({ comment, zoom }: { comment: GraphComment; zoom: number }) {
  const [editing, setEditing] = useState(false);
  const { id, position, size } = comment;
  const update = editor.getState().updateComment;
  const flow = useStoreApi();
  /** The nodes wholly inside the frame, at their places when the drag starts. */
  const inside = (): [string, { x: number; y: number }][] => {
    const right = position.x + size.width;
    const bottom = position.y + size.height;
    const carried: [string, { x: number; y: number }][] = [];
    for (const n of editor.getState().view.graph.nodes) {
      const measured = flow.getState().nodeLookup.get(n.id)?.measured;
      const { x, y } = n.position;
      if (x >= position.x && y >= position.y && x + (measured?.width ?? 0) <= right && y + (measured?.height ?? 0) <= bottom) carried.push([n.id, { x, y }]);
    }
    return carried;
  };
  return (
    <div
      className="comment-frame"
      data-testid={`comment-${id}`}
      style={{ transform: `translate(${position.x}px, ${position.y}px)`, width: size.width, height: size.height }}
    >
      <div
        className="comment-frame__title nodrag nopan"
        onPointerDown={(e) => {
          if (editing) return;
          const carried = inside();
          drag(e, zoom, (dx, dy, g) =>
            update(
              id,
              { position: { x: position.x + dx, y: position.y + dy }, nodes: Object.fromEntries(carried.map(([n, p]) => [n, { x: p.x + dx, y: p.y + dy }])) },
              g,
            ),
          );
        }}
        onDoubleClick={() => setEditing(true)}
      >
        {editing ? (
          <input
            autoFocus
            defaultValue={comment.text}
            data-testid={`comment-text-${id}`}
            onFocus={(e) => e.target.select()}
            onBlur={(e) => {
              update(id, { text: e.target.value });
              setEditing(false);
            }}
            onKeyDown={(e) => {
              e.stopPropagation();
              if (e.key === 'Enter' || e.key === 'Escape') (e.target as HTMLInputElement).blur();
            }}
          />
        ) : (
          <span data-testid={`comment-title-${id}`}>{comment.text || 'Comment'}</span>
        )}
        <button
          className="comment-frame__remove"
          title="Delete the comment"
          onPointerDown={(e) => e.stopPropagation()}
          onClick={() => editor.getState().removeComment(id)}
        >
          ×
        </button>
      </div>
      <div
        className="comment-frame__resize nodrag nopan"
        data-testid={`comment-resize-${id}`}
        onPointerDown={(e) => drag(e, zoom, (dx, dy, g) => update(id, { size: { width: size.width + dx, height: size.height + dy } }, g))}
      />
    </div>
  );
});

export function Comments() {
  const comments = useEditor((s) => s.view.graph.comments);
  const zoom = useStore((s) => s.transform[2]);
  if (!comments?.length) return null;
  return (
    <ViewportPortal>
      {comments.map((c) => (
        <CommentFrame key={c.id} comment={c} zoom={zoom} />
      ))}
    </ViewportPortal>
  );
}
