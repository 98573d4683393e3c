//! Production charts: points `(time, actual, goal)` that travel as three parallel arrays,
//! validated whole, upserted by time, and read back in pages of points or of buckets.

use serde::Serialize;
use serde_json::value::RawValue;
use shared::{Field, Fields};
use std::collections::BTreeMap;

use crate::{cursor, Invalid, ParamError, Pointer};

pub const TIME: &str = "time";
pub const ACTUAL: &str = "sprocket_production_actual";
pub const GOAL: &str = "sprocket_production_goal";
pub const MAX_TIME: i64 = 253_402_300_799;
pub const MAX_COUNT: i64 = 1_000_000_000;
/// Points in one write.
pub const MAX_WRITE_POINTS: usize = 10_000;
pub const MAX_BUCKET: i64 = 86_400;
pub const MAX_LIMIT: usize = 10_000;
pub const DEFAULT_LIMIT: usize = 1_000;
/// Points a bucketed page reads at most: more than the largest bucket holds, so that a
/// page always has one whole bucket; a page of fewer buckets than `limit` then has a cursor.
pub const MAX_BUCKET_READ: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Point {
    pub time: i64,
    pub actual: u32,
    pub goal: u32,
}

/// A chart's entries: points, or bucket sums (which may exceed a point's range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub time: i64,
    pub actual: u64,
    pub goal: u64,
}

/// Points sorted by time, times unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chart(pub Vec<Point>);

/// A chart in its column shape, with the cursor of the page after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub sprocket_production_actual: Vec<u64>,
    pub sprocket_production_goal: Vec<u64>,
    pub time: Vec<i64>,
    pub next_cursor: Option<String>,
}

/// A chart in its column shape, as the original's clients read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Columns {
    pub sprocket_production_actual: Vec<u64>,
    pub sprocket_production_goal: Vec<u64>,
    pub time: Vec<i64>,
}

impl Columns {
    pub fn of(points: &[Point]) -> Columns {
        Columns {
            sprocket_production_actual: points.iter().map(|p| p.actual as u64).collect(),
            sprocket_production_goal: points.iter().map(|p| p.goal as u64).collect(),
            time: points.iter().map(|p| p.time).collect(),
        }
    }
}

fn integers(raw: Option<&RawValue>, at: &Pointer, range: (i64, i64)) -> Result<Vec<i64>, Invalid> {
    let Some(raw) = raw else {
        return Err(at.invalid("is required"));
    };
    let items: Vec<Box<RawValue>> = match raw.get().starts_with('[') {
        true => serde_json::from_str(raw.get()).map_err(|_| at.invalid("must be an array"))?,
        false => return Err(at.invalid("must be an array of integers")),
    };
    if items.len() > MAX_WRITE_POINTS {
        return Err(at.invalid(format!("has more than {MAX_WRITE_POINTS} entries")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = Field::of(item);
            field
                .as_integer()
                .filter(|n| matches!(field, Field::Number(_)) && (range.0..=range.1).contains(n))
                .ok_or_else(|| {
                    at.join(i).invalid(format!(
                        "must be an integer from {} to {}",
                        range.0, range.1
                    ))
                })
        })
        .collect()
}

impl Chart {
    /// The chart object at `at`: three arrays of equal length, times unique, each value in
    /// range; any order in, sorted by time out. `min_points` is 1 for a chart write.
    pub fn parse_at(raw: &RawValue, at: &Pointer, min_points: usize) -> Result<Chart, Invalid> {
        let fields =
            Fields::parse(raw.get().as_bytes()).map_err(|_| at.invalid("must be a JSON object"))?;
        Chart::parse_fields(&fields, at, min_points)
    }

    pub fn parse_fields(
        fields: &Fields,
        at: &Pointer,
        min_points: usize,
    ) -> Result<Chart, Invalid> {
        let mut names: Vec<&str> = fields
            .names()
            .filter(|n| ![TIME, ACTUAL, GOAL].contains(n))
            .collect();
        names.sort_unstable();
        if let Some(name) = names.first() {
            return Err(at.join(name).invalid(format!(
                "is not a chart column (they are {TIME}, {ACTUAL}, {GOAL})"
            )));
        }
        let times = integers(fields.raw(TIME), &at.join(TIME), (0, MAX_TIME))?;
        let actual = integers(fields.raw(ACTUAL), &at.join(ACTUAL), (0, MAX_COUNT))?;
        let goal = integers(fields.raw(GOAL), &at.join(GOAL), (0, MAX_COUNT))?;
        for (name, column) in [(ACTUAL, &actual), (GOAL, &goal)] {
            if column.len() != times.len() {
                return Err(at.join(name).invalid(format!(
                    "has {} entries where {TIME} has {}",
                    column.len(),
                    times.len()
                )));
            }
        }
        if times.len() < min_points {
            return Err(at.join(TIME).invalid(format!(
                "must have from {min_points} to {MAX_WRITE_POINTS} points"
            )));
        }
        let mut seen = BTreeMap::new();
        for (i, &t) in times.iter().enumerate() {
            if let Some(first) = seen.insert(t, i) {
                return Err(at
                    .join(TIME)
                    .join(i)
                    .invalid(format!("repeats the time at index {first}")));
            }
        }
        let mut points: Vec<Point> = (0..times.len())
            .map(|i| Point {
                time: times[i],
                actual: actual[i] as u32,
                goal: goal[i] as u32,
            })
            .collect();
        points.sort_unstable_by_key(|p| p.time);
        Ok(Chart(points))
    }
}

/// What upserting points by time does to a chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upsert {
    /// The points to store: new times and changed values.
    pub writes: Vec<Point>,
    pub inserted: usize,
    pub replaced: usize,
    pub unchanged: usize,
}

impl Upsert {
    /// `incoming` against the stored points at the same times (`existing`, any subset).
    pub fn plan(incoming: &[Point], existing: &[Point]) -> Upsert {
        let stored: BTreeMap<i64, &Point> = existing.iter().map(|p| (p.time, p)).collect();
        let mut upsert = Upsert::default();
        for p in incoming {
            match stored.get(&p.time) {
                None => {
                    upsert.inserted += 1;
                    upsert.writes.push(*p);
                }
                Some(old) if *old == p => upsert.unchanged += 1,
                Some(_) => {
                    upsert.replaced += 1;
                    upsert.writes.push(*p);
                }
            }
        }
        upsert
    }

    pub fn changes(&self) -> bool {
        !self.writes.is_empty()
    }
}

/// Points over `stored` with `overlay` (newer) taking the times they share; sorted.
pub fn merge(stored: Vec<Point>, overlay: impl IntoIterator<Item = Point>) -> Vec<Point> {
    let mut by_time: BTreeMap<i64, Point> = stored.into_iter().map(|p| (p.time, p)).collect();
    for p in overlay {
        by_time.insert(p.time, p);
    }
    by_time.into_values().collect()
}

/// A chart query: `[from, to)`, optional buckets, a page size and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartQuery {
    pub from: i64,
    /// Exclusive.
    pub to: i64,
    pub bucket: Option<i64>,
    pub limit: usize,
    /// Where this page starts (a cursor from the previous page), else `from`.
    pub after: Option<i64>,
}

fn int_param(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: (i64, i64),
) -> Result<Option<i64>, ParamError> {
    let Some(raw) = get(name) else {
        return Ok(None);
    };
    let ok = !raw.is_empty()
        && raw.len() <= 19
        && raw
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'));
    raw.parse::<i64>()
        .ok()
        .filter(|n| ok && (range.0..=range.1).contains(n))
        .map(Some)
        .ok_or(ParamError {
            parameter: name,
            reason: format!("must be an integer from {} to {}", range.0, range.1),
        })
}

impl ChartQuery {
    /// The query string's parameters (`get` answers one by name).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<ChartQuery, ParamError> {
        let from = int_param(&get, "from", (0, MAX_TIME))?.unwrap_or(0);
        let to = int_param(&get, "to", (1, MAX_TIME + 1))?.unwrap_or(MAX_TIME + 1);
        if from >= to {
            return Err(ParamError {
                parameter: "to",
                reason: "must be greater than `from`".into(),
            });
        }
        let bucket = int_param(&get, "bucket", (1, MAX_BUCKET))?;
        let limit =
            int_param(&get, "limit", (1, MAX_LIMIT as i64))?.map_or(DEFAULT_LIMIT, |n| n as usize);
        let after = match get("cursor") {
            None => None,
            Some(raw) => {
                let bad = || ParamError {
                    parameter: "cursor",
                    reason: "is not a cursor this query returned".into(),
                };
                let (time, b) = cursor::decode_chart(&raw).ok_or_else(bad)?;
                // A cursor carries its query's bucket: another bucket would split one.
                if b != bucket.unwrap_or(0) || time < from || time >= to {
                    return Err(bad());
                }
                Some(time)
            }
        };
        Ok(ChartQuery {
            from,
            to,
            bucket,
            limit,
            after,
        })
    }

    /// Where this page's points start.
    pub fn start(&self) -> i64 {
        self.after.unwrap_or(self.from)
    }

    /// How many points a page reads at most: one past a page of points; for buckets, one
    /// past the most that `limit` buckets can hold (times are unique seconds), capped so
    /// that a page reads at most `MAX_BUCKET_READ` points, which still holds a whole bucket.
    pub fn read_limit(&self) -> usize {
        match self.bucket {
            None => self.limit + 1,
            Some(b) => (self.limit * b as usize + 1).min(MAX_BUCKET_READ),
        }
    }

    /// The page of `points`, which are every point in `[start, cutoff)` (sorted); `cutoff`
    /// is `to` when nothing is left after them.
    pub fn page(&self, points: &[Point], cutoff: i64) -> Page {
        let more = cutoff < self.to;
        let (entries, next) = match self.bucket {
            None => {
                let entries: Vec<Entry> = points
                    .iter()
                    .take(self.limit)
                    .map(|p| Entry {
                        time: p.time,
                        actual: p.actual as u64,
                        goal: p.goal as u64,
                    })
                    .collect();
                let next = match points.get(self.limit) {
                    Some(p) => Some(p.time),
                    None if more => Some(cutoff),
                    None => None,
                };
                (entries, next)
            }
            Some(b) => {
                let mut entries: Vec<Entry> = Vec::new();
                for p in points {
                    let start = p.time.div_euclid(b) * b;
                    match entries.last_mut() {
                        Some(e) if e.time == start => {
                            e.actual += p.actual as u64;
                            e.goal += p.goal as u64;
                        }
                        _ => entries.push(Entry {
                            time: start,
                            actual: p.actual as u64,
                            goal: p.goal as u64,
                        }),
                    }
                }
                // A bucket that reaches past what was read may have more points: it
                // starts the next page, never split across two.
                let mut next = more.then_some(cutoff);
                if more {
                    if let Some(last) = entries.last() {
                        if last.time + b > cutoff {
                            next = Some(last.time);
                            entries.pop();
                        }
                    }
                }
                if entries.len() > self.limit {
                    next = Some(entries[self.limit].time);
                    entries.truncate(self.limit);
                }
                (entries, next)
            }
        };
        Page {
            sprocket_production_actual: entries.iter().map(|e| e.actual).collect(),
            sprocket_production_goal: entries.iter().map(|e| e.goal).collect(),
            time: entries.iter().map(|e| e.time).collect(),
            // A bucket's start may precede `from`: the next page starts within the range.
            next_cursor: next
                .map(|t| cursor::encode_chart(t.max(self.from), self.bucket.unwrap_or(0))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(json: &str) -> Result<Chart, Invalid> {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        Chart::parse_at(&raw, &Pointer::root(), 1)
    }

    fn pts(v: &[(i64, u32, u32)]) -> Vec<Point> {
        v.iter()
            .map(|&(time, actual, goal)| Point { time, actual, goal })
            .collect()
    }

    fn query(pairs: &[(&str, &str)]) -> Result<ChartQuery, ParamError> {
        ChartQuery::parse(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_chart_is_validated_whole_and_sorted() {
        let c = chart(r#"{"sprocket_production_actual": [1, 2], "sprocket_production_goal": [3, 4], "time": [20, 10]}"#)
            .unwrap();
        assert_eq!(c.0, pts(&[(10, 2, 4), (20, 1, 3)]));
        let bad = [
            (
                r#"{"sprocket_production_actual": [1], "sprocket_production_goal": [3, 4], "time": [20, 10]}"#,
                "sprocket_production_actual",
            ),
            (
                r#"{"sprocket_production_actual": [1, 2], "sprocket_production_goal": [3, 4], "time": [10, 10]}"#,
                "/time/1",
            ),
            (
                r#"{"sprocket_production_actual": [1, -2], "sprocket_production_goal": [3, 4], "time": [1, 2]}"#,
                "/sprocket_production_actual/1",
            ),
            (
                r#"{"sprocket_production_actual": [1, 2.5], "sprocket_production_goal": [3, 4], "time": [1, 2]}"#,
                "/sprocket_production_actual/1",
            ),
            (
                r#"{"sprocket_production_actual": [1, 2], "sprocket_production_goal": [3, "4"], "time": [1, 2]}"#,
                "/sprocket_production_goal/1",
            ),
            (
                r#"{"sprocket_production_actual": [1, 2], "sprocket_production_goal": [3, 4], "time": [1, 253402300800]}"#,
                "/time/1",
            ),
            (
                r#"{"sprocket_production_actual": [], "sprocket_production_goal": [], "time": []}"#,
                "time",
            ),
            (
                r#"{"sprocket_production_goal": [], "time": []}"#,
                "sprocket_production_actual",
            ),
            (
                r#"{"sprocket_production_actual": [], "sprocket_production_goal": [], "time": [], "x": 1}"#,
                "x",
            ),
            (
                r#"{"sprocket_production_actual": 1, "sprocket_production_goal": [], "time": []}"#,
                "sprocket_production_actual",
            ),
        ];
        for (body, field) in bad {
            assert_eq!(chart(body).unwrap_err().field, field, "{body}");
        }
    }

    #[test]
    fn upserts_count_what_they_change() {
        let existing = pts(&[(10, 1, 1), (20, 2, 2)]);
        let plan = Upsert::plan(&pts(&[(10, 1, 1), (20, 5, 2), (30, 3, 3)]), &existing);
        assert_eq!((plan.inserted, plan.replaced, plan.unchanged), (1, 1, 1));
        assert_eq!(plan.writes, pts(&[(20, 5, 2), (30, 3, 3)]));
        assert!(!Upsert::plan(&existing, &existing).changes());
    }

    #[test]
    fn queries_refuse_what_they_cannot_answer() {
        for (pairs, param) in [
            (vec![("from", "10"), ("to", "10")], "to"),
            (vec![("from", "1.5")], "from"),
            (vec![("bucket", "0")], "bucket"),
            (vec![("bucket", "86401")], "bucket"),
            (vec![("limit", "10001")], "limit"),
            (vec![("limit", "+5")], "limit"),
            (vec![("cursor", "nope")], "cursor"),
        ] {
            assert_eq!(query(&pairs).unwrap_err().parameter, param, "{pairs:?}");
        }
        let q = query(&[
            ("from", "5"),
            ("to", "100"),
            ("bucket", "10"),
            ("limit", "3"),
        ])
        .unwrap();
        assert_eq!((q.from, q.to, q.bucket, q.limit), (5, 100, Some(10), 3));
    }

    #[test]
    fn pages_of_points_and_of_buckets_never_split_a_bucket() {
        let points = pts(&[(5, 1, 1), (12, 1, 2), (18, 2, 2), (25, 4, 4), (31, 1, 1)]);
        let q = query(&[("bucket", "10"), ("limit", "2")]).unwrap();
        let page = q.page(&points, q.to);
        assert_eq!(page.time, vec![0, 10]);
        assert_eq!(page.sprocket_production_actual, vec![1, 3]);
        assert_eq!(page.sprocket_production_goal, vec![1, 4]);
        let cursor = page.next_cursor.unwrap();
        let q2 = query(&[("bucket", "10"), ("limit", "2"), ("cursor", &cursor)]).unwrap();
        assert_eq!(q2.start(), 20);
        // Read up to 26 only: the bucket [20, 30) may go on, so it waits for the next page.
        let partial = q.page(&points[..4], 26);
        assert_eq!(partial.time, vec![0, 10]);
        let q3 = query(&[("bucket", "10"), ("limit", "5")]).unwrap();
        let p3 = q3.page(&points[..4], 26);
        assert_eq!(p3.time, vec![0, 10]);
        let next = query(&[
            ("bucket", "10"),
            ("cursor", p3.next_cursor.as_deref().unwrap()),
        ])
        .unwrap();
        assert_eq!(next.start(), 20);
        // Points: one page of two, the next starts at the third point.
        let q4 = query(&[("limit", "2")]).unwrap();
        let p4 = q4.page(&points, q4.to);
        assert_eq!(p4.time, vec![5, 12]);
        let q5 = query(&[
            ("limit", "2"),
            ("cursor", p4.next_cursor.as_deref().unwrap()),
        ])
        .unwrap();
        assert_eq!(q5.start(), 18);
        assert_eq!(q4.page(&points[..2], q4.to).next_cursor, None);
    }

    #[test]
    fn merge_takes_the_overlay_at_shared_times() {
        let merged = merge(pts(&[(1, 1, 1), (2, 2, 2)]), pts(&[(2, 9, 9), (3, 3, 3)]));
        assert_eq!(merged, pts(&[(1, 1, 1), (2, 9, 9), (3, 3, 3)]));
    }
}
