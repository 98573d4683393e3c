//! The access patterns of the routes: one conditional write per create or delete, one read
//! per event, and reports from the cells of one subset at the tenant's committed generation.

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use events_domain::aggregate::Cell;
use events_domain::report::MAX_CELLS;
use events_domain::{Delta, Dim, EventId, ReportQuery};
use shared::dynamo::{self, s, unavailable, Malformed, Unavailable};
use shared::tenant::Owner;

use crate::items::{cell_pk, event_key, head_key, CellItem, EventItem, HeadItem};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// More cells than a report may read.
    #[error("the report spans more than {MAX_CELLS} combinations")]
    TooLarge,
    /// The cells kept moving while they were read.
    #[error("the aggregates moved during every read")]
    Busy,
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    events: String,
    aggregates: String,
}

/// The cells of a report at one generation.
pub struct Cells {
    pub cells: Vec<(Cell, Delta)>,
    pub head: HeadItem,
}

impl Store {
    pub fn new(client: Client, events: String, aggregates: String) -> Store {
        Store {
            client,
            events,
            aggregates,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn events_table(&self) -> &str {
        &self.events
    }

    pub fn aggregates_table(&self) -> &str {
        &self.aggregates
    }

    /// Both tables, the events table with its stream (local development and tests).
    pub async fn create_tables(&self) -> Result<(), Unavailable> {
        dynamo::create_table(&self.client, &self.events, true).await?;
        dynamo::create_table(&self.client, &self.aggregates, false).await
    }

    /// Stores a new event: `false` when the tenant has one with its id (nothing changes).
    pub async fn put_event(&self, item: &EventItem) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.events)
            .set_item(Some(item.to_item()?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(e).into()),
        }
    }

    pub async fn get_event(
        &self,
        owner: &Owner,
        id: &EventId,
    ) -> Result<Option<EventItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.events)
            .set_key(Some(event_key(owner, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().map(EventItem::from_item).transpose()?)
    }

    /// Deletes an event: the item deleted, or `None` when there was none (so of N parallel
    /// deletes one gets it).
    pub async fn delete_event(
        &self,
        owner: &Owner,
        id: &EventId,
    ) -> Result<Option<EventItem>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.events)
            .set_key(Some(event_key(owner, id)))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes().map(EventItem::from_item).transpose()?),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable(e).into()),
        }
    }

    /// The tenant's head: the generation reports read (generation 0, nothing, if none yet).
    pub async fn head(&self, owner: &Owner) -> Result<HeadItem, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.aggregates)
            .set_key(Some(head_key(owner)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(match out.item() {
            Some(item) => dynamo::from_item(item)?,
            None => HeadItem::empty(owner),
        })
    }

    /// The cells of the query's subset (the date range of it) at the generation of `head`
    /// (read just before). A cell that moved twice since the head was read no longer holds
    /// that generation's value: the head is read again and so are the cells (rarely).
    pub async fn report_cells(
        &self,
        owner: &Owner,
        query: &ReportQuery,
        mut head: HeadItem,
    ) -> Result<Cells, StoreError> {
        for _ in 0..3 {
            if head.g == 0 {
                return Ok(Cells {
                    cells: vec![],
                    head,
                });
            }
            if let Some(cells) = self.cells_at(owner, query, head.g).await? {
                return Ok(Cells { cells, head });
            }
            head = self.head(owner).await?;
        }
        Err(StoreError::Busy)
    }

    async fn cells_at(
        &self,
        owner: &Owner,
        query: &ReportQuery,
        g: u64,
    ) -> Result<Option<Vec<(Cell, Delta)>>, StoreError> {
        let dims = query.cells();
        let mut q = self
            .client
            .query()
            .table_name(&self.aggregates)
            .consistent_read(true)
            .expression_attribute_values(":pk", s(cell_pk(owner, dims)));
        // The day leads a cell's key: a date range is a key range.
        q = match (dims.contains(Dim::Date), query.start_date, query.end_date) {
            (true, start, end) if start.is_some() || end.is_some() => {
                let low = start.map_or("#".to_owned(), |d| format!("#{}", d.format("%Y-%m-%d")));
                // `$` sorts just after `#`, so every cell of the last day is below it.
                let high = end
                    .and_then(|d| d.pred_opt())
                    .map_or("$".to_owned(), |d| format!("#{}$", d.format("%Y-%m-%d")));
                if high < low {
                    return Ok(Some(vec![]));
                }
                q.key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                    .expression_attribute_values(":low", s(low))
                    .expression_attribute_values(":high", s(high))
            }
            _ => q.key_condition_expression("pk = :pk"),
        };
        let mut pages = q.into_paginator().send();
        let mut cells = Vec::new();
        let mut read = 0usize;
        while let Some(page) = pages.next().await {
            let page = page.map_err(unavailable)?;
            for item in page.items() {
                read += 1;
                if read > MAX_CELLS {
                    return Err(StoreError::TooLarge);
                }
                let cell: CellItem = dynamo::from_item(item)?;
                let Some((count, sum)) = cell.at(g) else {
                    return Ok(None);
                };
                if count == 0 && sum.is_zero() {
                    continue;
                }
                let key = Cell::from_key(dims, &cell.sk)
                    .ok_or_else(|| Malformed(format!("cell key {:?}", cell.sk)))?;
                cells.push((key, Delta { count, sum }));
            }
        }
        Ok(Some(cells))
    }
}
