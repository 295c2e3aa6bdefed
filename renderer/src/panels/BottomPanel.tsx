import { useState } from 'react';
import { useEditor } from '../editor.js';
import { SummaryPanel } from './SummaryPanel.js';
import { ProblemsPanel } from './ProblemsPanel.js';

export function BottomPanel() {
  const [tab, setTab] = useState<'summary' | 'problems'>('summary');
  const errors = useEditor((s) => s.diagnostics.errorCount);
  return (
    <section className="bottom-panel">
      <nav className="tabs">
        <button className={tab === 'summary' ? 'active' : ''} onClick={() => setTab('summary')} data-testid="tab-summary">
          Model summary
        </button>
        <button className={tab === 'problems' ? 'active' : ''} onClick={() => setTab('problems')} data-testid="tab-problems">
          Problems {errors > 0 && <span className="count">{errors}</span>}
        </button>
      </nav>
      <div className="tab-body">{tab === 'summary' ? <SummaryPanel /> : <ProblemsPanel />}</div>
    </section>
  );
}
