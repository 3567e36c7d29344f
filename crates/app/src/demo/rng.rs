//! A small deterministic generator (SplitMix64) so demo data is the same on
//! every machine and every version of every dependency.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`; `lo` when the range is empty.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = u64::try_from(hi - lo).unwrap_or(1);
        lo + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// Log-uniform in `[lo, hi)`: small values are as likely per decade as large ones.
    pub fn log_range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo + 1 || lo <= 0 {
            return self.range(lo, hi);
        }
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let v = (l + (h - l) * u).exp() as i64;
        v.clamp(lo, hi - 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.next_u64() % items.len().max(1) as u64).unwrap_or(0);
        &items[i.min(items.len().saturating_sub(1))]
    }

    /// Picks by integer weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.next_u64() % total.max(1);
        for (item, w) in items {
            let w = u64::from(*w);
            if r < w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}
