//! The events service's rules as pure functions: no clock, no network, no storage.
//!
//! An event is parsed at the edge ([`Event::parse`]); a stream batch folds into deltas of
//! aggregate cells, one cell per subset of the six dimensions ([`aggregate::fold`]); a report
//! query ([`ReportQuery::parse`]) names the one subset whose cells answer it, and the report
//! is computed from those cells alone ([`report::compute`]), never from events.

pub mod aggregate;
pub mod event;
pub mod query;
pub mod report;

pub use aggregate::{fold, Cell, Change, Delta, Dim, DimValue, Dims};
pub use event::{DeviceType, Event, EventError, EventId};
pub use query::{Column, Order, ParamError, ReportQuery};
pub use report::{compute, Report, Row};
