//! `GET /report`'s parameters: parsed whole or refused naming the parameter.

use chrono::NaiveDate;

use crate::aggregate::{Dim, DimValue, Dims};
use crate::event::DeviceType;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;
pub const MAX_OFFSET: u32 = 1_000_000;
/// The most values a list parameter may hold.
pub const MAX_LIST: usize = 100;

/// What a report may be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Dim(Dim),
    Count,
    Sum,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub column: Column,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// The grouped dimensions, in their canonical order.
    pub group_by: Vec<Dim>,
    /// Highest priority first; the grouped columns ascending when not given.
    pub order_by: Vec<Order>,
    pub clients: Option<Vec<i32>>,
    pub client_groups: Option<Vec<i32>>,
    pub categories: Option<Vec<Option<i32>>>,
    pub device_types: Option<Vec<Option<DeviceType>>>,
    pub valid: Option<bool>,
    /// Inclusive.
    pub start_date: Option<NaiveDate>,
    /// Exclusive.
    pub end_date: Option<NaiveDate>,
    pub offset: u32,
    pub limit: u32,
}

/// A parameter that cannot be taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{parameter}` {reason}")]
pub struct ParamError {
    pub parameter: String,
    pub reason: String,
}

fn bad(parameter: &str, reason: impl Into<String>) -> ParamError {
    ParamError {
        parameter: parameter.to_owned(),
        reason: reason.into(),
    }
}

const PARAMETERS: [&str; 11] = [
    "group_by",
    "order_by",
    "clients",
    "client_groups",
    "categories",
    "device_types",
    "valid",
    "start_date",
    "end_date",
    "offset",
    "limit",
];

impl ReportQuery {
    /// From the query string's decoded `(name, value)` pairs, in order. A list is separated
    /// by spaces or commas (or a `+` left undecoded), or given by repeating its parameter.
    pub fn parse(pairs: &[(String, String)]) -> Result<ReportQuery, ParamError> {
        for (name, _) in pairs {
            if !PARAMETERS.contains(&name.as_str()) {
                return Err(bad(name, "is not a parameter of the report"));
            }
        }
        let given = |name: &str| -> Vec<&String> {
            pairs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v)
                .collect()
        };
        let scalar = |name: &str| -> Result<Option<&String>, ParamError> {
            match given(name).as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(*one)),
                _ => Err(bad(name, "is given more than once")),
            }
        };
        let list = |name: &str| -> Result<Option<Vec<String>>, ParamError> {
            let mut any = false;
            let mut items = Vec::new();
            for value in given(name) {
                any = true;
                items.extend(
                    value
                        .split([' ', ',', '+'])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
            if items.len() > MAX_LIST {
                return Err(bad(name, format!("holds more than {MAX_LIST} values")));
            }
            Ok(any.then_some(items))
        };

        let group_by = match list("group_by")? {
            None => Dim::ALL.to_vec(),
            Some(names) => {
                let mut dims = Vec::new();
                for n in &names {
                    let d = Dim::parse(n)
                        .ok_or_else(|| bad("group_by", format!("names an unknown column {n:?}")))?;
                    if dims.contains(&d) {
                        return Err(bad("group_by", format!("names {n:?} twice")));
                    }
                    dims.push(d);
                }
                dims.sort();
                dims
            }
        };
        let order_by = match list("order_by")? {
            None => vec![],
            Some(names) => {
                let mut orders: Vec<Order> = Vec::new();
                for n in &names {
                    let (descending, name) = match n.strip_prefix('-') {
                        Some(rest) => (true, rest),
                        None => (false, n.as_str()),
                    };
                    let column = match name {
                        "count" => Column::Count,
                        "sum" => Column::Sum,
                        "mean" => Column::Mean,
                        other => {
                            let d = Dim::parse(other).ok_or_else(|| {
                                bad("order_by", format!("names an unknown column {n:?}"))
                            })?;
                            if !group_by.contains(&d) {
                                return Err(bad(
                                    "order_by",
                                    format!("names {other:?}, which is not grouped"),
                                ));
                            }
                            Column::Dim(d)
                        }
                    };
                    if orders.iter().any(|o| o.column == column) {
                        return Err(bad("order_by", format!("names {name:?} twice")));
                    }
                    orders.push(Order { column, descending });
                }
                orders
            }
        };
        let ints = |name: &str| -> Result<Option<Vec<i32>>, ParamError> {
            list(name)?
                .map(|items| {
                    items
                        .iter()
                        .map(|s| {
                            s.parse::<i32>()
                                .map_err(|_| bad(name, format!("{s:?} is not a 32-bit integer")))
                        })
                        .collect()
                })
                .transpose()
        };
        let clients = ints("clients")?;
        let client_groups = ints("client_groups")?;
        let categories = list("categories")?
            .map(|items| {
                items
                    .iter()
                    .map(|s| match s.as_str() {
                        "null" => Ok(None),
                        s => s.parse::<i32>().map(Some).map_err(|_| {
                            bad(
                                "categories",
                                format!("{s:?} is not a 32-bit integer or null"),
                            )
                        }),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let device_types = list("device_types")?
            .map(|items| {
                items
                    .iter()
                    .map(|s| match s.as_str() {
                        "null" => Ok(None),
                        s => DeviceType::parse(s).map(Some).ok_or_else(|| {
                            bad(
                                "device_types",
                                format!("{s:?} is not desktop, mobile, tablet or null"),
                            )
                        }),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let valid = match scalar("valid")?.map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(bad("valid", "must be true or false")),
        };
        let date = |name: &str| -> Result<Option<NaiveDate>, ParamError> {
            scalar(name)?
                .map(|s| {
                    let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
                    ok.then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                        .flatten()
                        .ok_or_else(|| bad(name, "must be a date as YYYY-MM-DD"))
                })
                .transpose()
        };
        let start_date = date("start_date")?;
        let end_date = date("end_date")?;
        if let (Some(s), Some(e)) = (start_date, end_date) {
            if e <= s {
                return Err(bad("end_date", "must be after start_date"));
            }
        }
        let number =
            |name: &str, range: std::ops::RangeInclusive<u32>, default: u32| match scalar(name)? {
                None => Ok(default),
                Some(s) => s
                    .parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n) && !s.starts_with('+'))
                    .ok_or_else(|| {
                        bad(
                            name,
                            format!(
                                "must be a whole number from {} to {}",
                                range.start(),
                                range.end()
                            ),
                        )
                    }),
            };
        let offset = number("offset", 0..=MAX_OFFSET, 0)?;
        let limit = number("limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
        Ok(ReportQuery {
            group_by,
            order_by,
            clients,
            client_groups,
            categories,
            device_types,
            valid,
            start_date,
            end_date,
            offset,
            limit,
        })
    }

    /// The subset whose cells answer the query: the grouped and the filtered dimensions, and
    /// the day when a date bounds it.
    pub fn cells(&self) -> Dims {
        let mut dims = Dims::of(self.group_by.iter().copied());
        let filtered = [
            (Dim::Client, self.clients.is_some()),
            (Dim::ClientGroup, self.client_groups.is_some()),
            (Dim::Category, self.categories.is_some()),
            (Dim::DeviceType, self.device_types.is_some()),
            (Dim::Valid, self.valid.is_some()),
            (
                Dim::Date,
                self.start_date.is_some() || self.end_date.is_some(),
            ),
        ];
        for (d, on) in filtered {
            if on {
                dims = dims.with(d);
            }
        }
        dims
    }

    /// Whether a value passes the query's filter on its dimension.
    pub fn admits(&self, v: DimValue) -> bool {
        fn any<T: PartialEq>(list: &Option<Vec<T>>, v: &T) -> bool {
            list.as_ref().is_none_or(|l| l.contains(v))
        }
        match v {
            DimValue::Day(d) => {
                self.start_date.is_none_or(|s| d >= s) && self.end_date.is_none_or(|e| d < e)
            }
            DimValue::Device(d) => any(&self.device_types, &d),
            DimValue::Category(c) => any(&self.categories, &c),
            DimValue::Client(c) => any(&self.clients, &c),
            DimValue::ClientGroup(g) => any(&self.client_groups, &g),
            DimValue::Valid(b) => self.valid.is_none_or(|want| want == b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<ReportQuery, ParamError> {
        let pairs: Vec<(String, String)> = s
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.replace('+', " "))
            })
            .collect();
        ReportQuery::parse(&pairs)
    }

    #[test]
    fn defaults_group_by_all_six_and_page_fifty() {
        let r = q("").unwrap();
        assert_eq!(r.group_by, Dim::ALL.to_vec());
        assert_eq!((r.offset, r.limit), (0, 50));
        assert_eq!(r.cells(), Dims::ALL);
    }

    #[test]
    fn lists_take_spaces_commas_and_repeats() {
        let r = q("group_by=client+date&clients=1,2&clients=3&categories=null 5").unwrap();
        assert_eq!(r.group_by, vec![Dim::Date, Dim::Client]);
        assert_eq!(r.clients, Some(vec![1, 2, 3]));
        assert_eq!(r.categories, Some(vec![None, Some(5)]));
        assert_eq!(r.cells(), Dims::of([Dim::Date, Dim::Client, Dim::Category]));
        let total = q("group_by=&valid=true").unwrap();
        assert!(total.group_by.is_empty());
        assert_eq!(total.cells(), Dims::of([Dim::Valid]));
    }

    #[test]
    fn order_by_takes_grouped_columns_and_the_measures() {
        let r = q("group_by=client&order_by=-count,client").unwrap();
        assert_eq!(
            r.order_by,
            vec![
                Order {
                    column: Column::Count,
                    descending: true
                },
                Order {
                    column: Column::Dim(Dim::Client),
                    descending: false
                }
            ]
        );
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases = [
            ("colour=red", "colour"),
            ("valid=true&valid=false", "valid"),
            ("group_by=day", "group_by"),
            ("group_by=client,client", "group_by"),
            ("group_by=client&order_by=category", "order_by"),
            ("order_by=count,-count", "order_by"),
            ("clients=1.5", "clients"),
            ("clients=2147483648", "clients"),
            ("categories=none", "categories"),
            ("device_types=phone", "device_types"),
            ("valid=yes", "valid"),
            ("start_date=2026-3-1", "start_date"),
            ("start_date=2026-02-30", "start_date"),
            ("start_date=2026-03-02&end_date=2026-03-02", "end_date"),
            ("offset=-1", "offset"),
            ("offset=1000001", "offset"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=+5", "limit"),
        ];
        for (query, parameter) in cases {
            assert_eq!(q(query).unwrap_err().parameter, parameter, "{query}");
        }
        let many = (0..101)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            q(&format!("clients={many}")).unwrap_err().parameter,
            "clients"
        );
    }
}
