// Hand-written SVG charts: grouped bars over time and a horizontal meter.

export interface Series {
  name: string;
  className: string;
  values: number[];
}

export function BarChart({ labels, series, title }: { labels: string[]; series: Series[]; title: string }) {
  const width = 720;
  const height = 200;
  const pad = { left: 40, bottom: 24, top: 10 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const slot = (width - pad.left) / Math.max(1, labels.length);
  const bar = Math.max(1, (slot - 2) / Math.max(1, series.length));
  const y = (v: number) => pad.top + (height - pad.top - pad.bottom) * (1 - v / max);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} data-chart="bars">
        <line x1={pad.left} y1={y(0)} x2={width} y2={y(0)} className="axis" />
        <text x={pad.left - 4} y={y(max) + 4} textAnchor="end" className="tick">
          {max}
        </text>
        <text x={pad.left - 4} y={y(0)} textAnchor="end" className="tick">
          0
        </text>
        {labels.map((label, i) => (
          <g key={label}>
            {series.map((s, j) => {
              const v = s.values[i] ?? 0;
              return (
                <rect key={s.name} className={s.className} x={pad.left + i * slot + 1 + j * bar} y={y(v)} width={bar} height={y(0) - y(v)}>
                  <title>{`${label}: ${s.name} ${v}`}</title>
                </rect>
              );
            })}
            {i % 3 === 0 && (
              <text x={pad.left + i * slot + slot / 2} y={height - 6} textAnchor="middle" className="tick">
                {label}
              </text>
            )}
          </g>
        ))}
      </svg>
      <figcaption>
        {title}:{' '}
        {series.map((s) => (
          <span key={s.name} className={`legend ${s.className}`}>
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function Meter({ used, total, label }: { used: number; total: number; label: string }) {
  const share = total > 0 ? Math.min(1, used / total) : 0;
  return (
    <svg viewBox="0 0 200 12" className="meter" role="img" aria-label={`${label}: ${Math.round(share * 100)}%`} data-chart="meter">
      <rect x="0" y="0" width="200" height="12" className="meter-bg" />
      <rect x="0" y="0" width={200 * share} height="12" className={share > 0.9 ? 'meter-full' : 'meter-used'} />
    </svg>
  );
}
