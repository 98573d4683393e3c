//! The contract's schema. Resolvers read snapshots through the request's [`Ctx`]: one
//! BatchGetItem per 100 keys per level (the DataLoader), never one per parent.

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, ErrorExtensions, InputValueError,
    InputValueResult, Object, OutputType, Scalar, ScalarType, SimpleObject, Value, ID,
};
use catalog_domain::page::{page, PageArgs, Position};
use catalog_domain::source::{Kind, SOURCES};
use catalog_domain::{cart, category, id::format_id, parse_id, Collection, Record, COLLECTIONS};
use catalog_store::items::Key;
use catalog_store::snapshot::{Notice, State};
use catalog_store::{Meta, Served, Snapshots};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

pub type CatalogSchema = async_graphql::Schema<Query, EmptyMutation, EmptySubscription>;

pub fn build(introspection: bool) -> CatalogSchema {
    let b = async_graphql::Schema::build(Query, EmptyMutation, EmptySubscription);
    if introspection {
        b.finish()
    } else {
        b.disable_introspection().finish()
    }
}

pub fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
}

fn store_down() -> async_graphql::Error {
    async_graphql::Error::new("the catalog's store is unavailable; retry shortly").extend_with(
        |_, e| {
            e.set("code", "UPSTREAM_UNAVAILABLE");
            e.set("reason", "dynamodb-unavailable");
        },
    )
}

/// One BatchGetItem per 100 keys for everything a resolver level asks for.
pub struct ItemLoader(pub Snapshots);

impl Loader<Key> for ItemLoader {
    type Value = String;
    type Error = Arc<String>;

    async fn load(&self, keys: &[Key]) -> Result<HashMap<Key, String>, Self::Error> {
        self.0.read(keys).await.map_err(|e| Arc::new(e.0))
    }
}

type Records = Arc<Vec<Record>>;

/// What one request knows: the collections it has read and what it must say of them.
pub struct Ctx {
    pub snapshots: Snapshots,
    loader: DataLoader<ItemLoader>,
    metas: OnceCell<Option<HashMap<Collection, Meta>>>,
    served: Mutex<HashMap<Collection, Arc<OnceCell<Served>>>>,
    lists: Mutex<HashMap<Collection, Arc<OnceCell<Option<Records>>>>>,
    /// By collection key: what the answer's `errors` say of it.
    pub notices: Mutex<BTreeMap<String, (Collection, Notice)>>,
}

impl Ctx {
    pub fn new(snapshots: Snapshots) -> Ctx {
        Ctx {
            loader: DataLoader::new(ItemLoader(snapshots.clone()), tokio::spawn),
            snapshots,
            metas: OnceCell::new(),
            served: Mutex::default(),
            lists: Mutex::default(),
            notices: Mutex::default(),
        }
    }

    async fn metas(&self) -> Option<&HashMap<Collection, Meta>> {
        self.metas
            .get_or_init(|| async { self.snapshots.metas().await.ok() })
            .await
            .as_ref()
    }

    /// The generation of `c` to read (refreshed as its age requires), or `None`.
    async fn meta(&self, c: Collection) -> async_graphql::Result<Option<Meta>> {
        let Some(metas) = self.metas().await else {
            return Err(store_down());
        };
        let cell = self
            .served
            .lock()
            .expect("not poisoned")
            .entry(c)
            .or_default()
            .clone();
        let served = cell
            .get_or_init(|| async { self.snapshots.ensure(c, metas.get(&c).cloned()).await })
            .await;
        if let Some(notice) = &served.notice {
            self.notices
                .lock()
                .expect("not poisoned")
                .insert(c.key(), (c, notice.clone()));
        }
        Ok(served.meta.clone())
    }

    async fn load(&self, key: Key) -> async_graphql::Result<Option<String>> {
        self.loader.load_one(key).await.map_err(|_| store_down())
    }

    pub async fn entity(&self, c: Collection, id: u64) -> async_graphql::Result<Option<Record>> {
        let Some(meta) = self.meta(c).await? else {
            return Ok(None);
        };
        Ok(self
            .load(meta.entity(id))
            .await?
            .and_then(|v| serde_json::from_str(&v).ok()))
    }

    pub async fn children(&self, c: Collection, parent: u64) -> async_graphql::Result<Vec<Record>> {
        let Some(meta) = self.meta(c).await? else {
            return Ok(Vec::new());
        };
        Ok(self
            .load(meta.children(parent))
            .await?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// A whole collection in id order (its list chunks), once per request.
    pub async fn all(&self, c: Collection) -> async_graphql::Result<Arc<Vec<Record>>> {
        let cell = self
            .lists
            .lock()
            .expect("not poisoned")
            .entry(c)
            .or_default()
            .clone();
        let list = cell
            .get_or_try_init(|| async {
                let Some(meta) = self.meta(c).await? else {
                    return Ok::<_, async_graphql::Error>(None);
                };
                let keys = meta.chunks();
                let mut records = Vec::new();
                let loaded = self
                    .loader
                    .load_many(keys.clone())
                    .await
                    .map_err(|_| store_down())?;
                for k in keys {
                    if let Some(v) = loaded.get(&k) {
                        records.extend(serde_json::from_str::<Vec<Record>>(v).unwrap_or_default());
                    }
                }
                Ok(Some(Arc::new(records)))
            })
            .await?;
        Ok(list.clone().unwrap_or_default())
    }
}

fn ctx<'a>(c: &Context<'a>) -> &'a Ctx {
    c.data_unchecked::<Arc<Ctx>>()
}

fn coll(source: catalog_domain::Source, kind: Kind) -> Collection {
    Collection::find(source, kind).expect("the collection exists")
}

/// An exact JSON number: `109.95`, and `0.1 × 3` is `0.3`.
#[derive(Debug, Clone, Copy)]
pub struct Dec(pub Decimal);

#[Scalar(name = "Decimal")]
impl ScalarType for Dec {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .to_string()
                .parse::<Decimal>()
                .map(Dec)
                .map_err(|_| InputValueError::custom("not a decimal")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        // Prices have at most 2 decimals and sums stay far below 15 significant digits,
        // where an f64 written shortest-first is exactly the decimal's text.
        let d = self.0.normalize();
        match d.to_f64().and_then(serde_json::Number::from_f64) {
            Some(n) if n.to_string().parse::<Decimal>().ok() == Some(d) => Value::Number(n),
            _ => Value::String(d.to_string()),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Source")]
pub enum SourceG {
    FakeStore,
    JsonPlaceholder,
    DummyJson,
}

impl From<catalog_domain::Source> for SourceG {
    fn from(s: catalog_domain::Source) -> SourceG {
        match s {
            catalog_domain::Source::FakeStore => SourceG::FakeStore,
            catalog_domain::Source::JsonPlaceholder => SourceG::JsonPlaceholder,
            catalog_domain::Source::DummyJson => SourceG::DummyJson,
        }
    }
}

impl From<SourceG> for catalog_domain::Source {
    fn from(s: SourceG) -> catalog_domain::Source {
        match s {
            SourceG::FakeStore => catalog_domain::Source::FakeStore,
            SourceG::JsonPlaceholder => catalog_domain::Source::JsonPlaceholder,
            SourceG::DummyJson => catalog_domain::Source::DummyJson,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CacheState {
    Fresh,
    Stale,
    Expired,
    Empty,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(concrete(name = "ProductConnection", params(ProductG)))]
#[graphql(concrete(name = "PostConnection", params(PostG)))]
#[graphql(concrete(name = "UserConnection", params(UserG)))]
#[graphql(concrete(name = "CommentConnection", params(CommentG)))]
#[graphql(concrete(name = "PhotoConnection", params(PhotoG)))]
pub struct Connection<T: OutputType> {
    nodes: Vec<T>,
    page_info: PageInfo,
    total_count: i32,
}

/// `first` explicitly null is its default.
fn args(first: Option<i32>, after: Option<String>) -> async_graphql::Result<PageArgs> {
    PageArgs::new(i64::from(first.unwrap_or(20)), after.as_deref())
        .map_err(|e| bad_input(e.to_string()))
}

fn connection<R: Clone, T: OutputType>(
    items: &[R],
    position: impl Fn(&R) -> Position,
    args: PageArgs,
    wrap: impl Fn(R) -> T,
) -> Connection<T> {
    let p = page(items, position, args);
    Connection {
        total_count: p.total_count as i32,
        page_info: PageInfo {
            has_next_page: p.has_next_page,
            end_cursor: p.end_cursor,
        },
        nodes: p.nodes.into_iter().map(wrap).collect(),
    }
}

pub struct Query;

#[Object]
impl Query {
    async fn product(&self, c: &Context<'_>, id: ID) -> async_graphql::Result<Option<ProductG>> {
        let (source, n) = parse_id(&id).map_err(|e| bad_input(e.to_string()))?;
        let Some(col) = Collection::find(source, Kind::Product) else {
            return Ok(None);
        };
        Ok(match ctx(c).entity(col, n).await? {
            Some(Record::Product(p)) => Some(ProductG(p)),
            _ => None,
        })
    }

    async fn album(&self, c: &Context<'_>, id: ID) -> async_graphql::Result<Option<AlbumG>> {
        let (source, n) = parse_id(&id).map_err(|e| bad_input(e.to_string()))?;
        let Some(col) = Collection::find(source, Kind::Album) else {
            return Ok(None);
        };
        Ok(match ctx(c).entity(col, n).await? {
            Some(Record::Album(a)) => Some(AlbumG(a)),
            _ => None,
        })
    }

    async fn user(&self, c: &Context<'_>, id: i32) -> async_graphql::Result<Option<UserG>> {
        user(ctx(c), id).await
    }

    async fn products(
        &self,
        c: &Context<'_>,
        source: Option<SourceG>,
        category: Option<String>,
        search: Option<String>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<ProductG>>> {
        let args = args(first, after)?;
        let category = category.map(|c| category::normalize_query(&c));
        let search = search.map(|s| s.to_lowercase());
        let mut items = Vec::new();
        for s in SOURCES {
            let Some(col) = Collection::find(s, Kind::Product) else {
                continue;
            };
            if source.is_some_and(|want| catalog_domain::Source::from(want) != s) {
                continue;
            }
            for r in ctx(c).all(col).await?.iter() {
                let Record::Product(p) = r else { continue };
                if category.as_ref().is_some_and(|c| &p.category != c) {
                    continue;
                }
                if search.as_ref().is_some_and(|q| {
                    !p.title.to_lowercase().contains(q) && !p.description.to_lowercase().contains(q)
                }) {
                    continue;
                }
                items.push(p.clone());
            }
        }
        Ok(Some(connection(
            &items,
            |p| (p.source, p.id),
            args,
            ProductG,
        )))
    }

    async fn posts(
        &self,
        c: &Context<'_>,
        source: Option<SourceG>,
        user_id: Option<i32>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<PostG>>> {
        let args = args(first, after)?;
        let mut items = Vec::new();
        for s in SOURCES {
            let Some(col) = Collection::find(s, Kind::Post) else {
                continue;
            };
            if source.is_some_and(|want| catalog_domain::Source::from(want) != s) {
                continue;
            }
            let records = match user_id {
                Some(u) if u < 1 => Vec::new(),
                Some(u) => ctx(c).children(col, u as u64).await?,
                None => ctx(c).all(col).await?.to_vec(),
            };
            items.extend(records.into_iter().filter_map(|r| match r {
                Record::Post(p) => Some(p),
                _ => None,
            }));
        }
        Ok(Some(connection(&items, |p| (p.source, p.id), args, PostG)))
    }

    async fn users(
        &self,
        c: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<UserG>>> {
        let args = args(first, after)?;
        let mut by_id: BTreeMap<u64, Vec<catalog_domain::User>> = BTreeMap::new();
        for s in SOURCES {
            let col = coll(s, Kind::User);
            for r in ctx(c).all(col).await?.iter() {
                if let Record::User(u) = r {
                    by_id.entry(u.id).or_default().push(u.clone());
                }
            }
        }
        let users: Vec<(u64, Vec<catalog_domain::User>)> = by_id.into_iter().collect();
        // Users are one list across sources, by id.
        Ok(Some(connection(
            &users,
            |(id, _)| (catalog_domain::Source::FakeStore, *id),
            args,
            |(id, records)| UserG { id, records },
        )))
    }

    async fn sources(&self, c: &Context<'_>) -> async_graphql::Result<Vec<CollectionStatus>> {
        let snapshots = &ctx(c).snapshots;
        let metas = ctx(c).metas().await.ok_or_else(store_down)?;
        Ok(COLLECTIONS
            .iter()
            .map(|col| {
                let meta = metas.get(col);
                CollectionStatus {
                    source: col.source.into(),
                    collection: col.name().to_owned(),
                    state: match snapshots.state(meta) {
                        State::Fresh => CacheState::Fresh,
                        State::Stale => CacheState::Stale,
                        State::Expired => CacheState::Expired,
                        State::Empty => CacheState::Empty,
                    },
                    count: meta
                        .filter(|m| m.generation > 0)
                        .map_or(0, |m| m.count as i32),
                    rejected: meta
                        .filter(|m| m.generation > 0)
                        .map_or(0, |m| m.rejected as i32),
                }
            })
            .collect())
    }
}

async fn user(c: &Ctx, id: i32) -> async_graphql::Result<Option<UserG>> {
    if id < 1 {
        return Ok(None);
    }
    let mut records = Vec::new();
    let lookups = SOURCES.map(|s| c.entity(coll(s, Kind::User), id as u64));
    for r in futures_join(lookups).await {
        if let Some(Record::User(u)) = r? {
            records.push(u);
        }
    }
    Ok((!records.is_empty()).then_some(UserG {
        id: id as u64,
        records,
    }))
}

/// Awaits three lookups together, so the DataLoader batches them into one call.
async fn futures_join<F: std::future::Future>(fs: [F; 3]) -> [F::Output; 3] {
    let [a, b, c] = fs;
    let (a, b, c) = tokio::join!(a, b, c);
    [a, b, c]
}

#[derive(SimpleObject)]
pub struct CollectionStatus {
    source: SourceG,
    collection: String,
    state: CacheState,
    count: i32,
    rejected: i32,
}

#[derive(Clone)]
pub struct ProductG(pub catalog_domain::Product);

#[Object(name = "Product")]
impl ProductG {
    async fn id(&self) -> ID {
        ID(format_id(self.0.source, self.0.id))
    }
    async fn source(&self) -> SourceG {
        self.0.source.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn price(&self) -> Dec {
        Dec(self.0.price)
    }
    async fn category(&self) -> &str {
        &self.0.category
    }
    async fn image(&self) -> &str {
        &self.0.image
    }
    /// Same category in both stores, nearest price first, never itself.
    async fn similar(
        &self,
        c: &Context<'_>,
        #[graphql(default = 5)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<ProductG>> {
        let first = first.unwrap_or(5);
        if !(1..=catalog_domain::page::MAX_FIRST).contains(&first) {
            return Err(bad_input(format!(
                "`first` must be between 1 and 100, got {first}"
            )));
        }
        let mut candidates = Vec::new();
        for s in [
            catalog_domain::Source::FakeStore,
            catalog_domain::Source::DummyJson,
        ] {
            for r in ctx(c).all(coll(s, Kind::Product)).await?.iter() {
                if let Record::Product(p) = r {
                    if p.category == self.0.category
                        && (p.source, p.id) != (self.0.source, self.0.id)
                    {
                        candidates.push(p.clone());
                    }
                }
            }
        }
        candidates.sort_by_key(|p| ((p.price - self.0.price).abs(), p.source, p.id));
        Ok(candidates
            .into_iter()
            .take(first as usize)
            .map(ProductG)
            .collect())
    }
}

#[derive(Clone)]
pub struct UserG {
    id: u64,
    /// Its record in each source that has it, in source order.
    records: Vec<catalog_domain::User>,
}

impl UserG {
    async fn owned(&self, c: &Context<'_>, kind: Kind) -> async_graphql::Result<Vec<Record>> {
        let mut out = Vec::new();
        let cols: Vec<Collection> = SOURCES
            .iter()
            .filter_map(|s| Collection::find(*s, kind))
            .collect();
        let loads = cols.iter().map(|col| ctx(c).children(*col, self.id));
        for r in join_all(loads).await {
            out.extend(r?);
        }
        Ok(out)
    }
}

async fn join_all<F: std::future::Future>(fs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.into_iter().collect();
    let mut out = Vec::with_capacity(handles.len());
    // Polled together so their keys land in one batch.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = handles.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(
        results
            .into_iter()
            .map(|r| r.expect("every future finished")),
    );
    out
}

#[Object(name = "User")]
impl UserG {
    async fn id(&self) -> i32 {
        self.id as i32
    }
    /// DummyJSON's, else JSONPlaceholder's, else Fake Store's.
    async fn name(&self) -> &str {
        self.records
            .iter()
            .max_by_key(|u| u.source)
            .map_or("", |u| u.name.as_str())
    }
    async fn sources(&self) -> Vec<SourceG> {
        self.records.iter().map(|u| u.source.into()).collect()
    }
    async fn albums(&self, c: &Context<'_>) -> async_graphql::Result<Vec<AlbumG>> {
        Ok(self
            .owned(c, Kind::Album)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Album(a) => Some(AlbumG(a)),
                _ => None,
            })
            .collect())
    }
    async fn todos(&self, c: &Context<'_>) -> async_graphql::Result<Vec<TodoG>> {
        Ok(self
            .owned(c, Kind::Todo)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Todo(t) => Some(TodoG(t)),
                _ => None,
            })
            .collect())
    }
    async fn carts(&self, c: &Context<'_>) -> async_graphql::Result<Vec<CartG>> {
        Ok(self
            .owned(c, Kind::Cart)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Cart(t) => Some(CartG(t)),
                _ => None,
            })
            .collect())
    }
    async fn posts(
        &self,
        c: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<PostG>> {
        let args = args(first, after)?;
        let posts: Vec<catalog_domain::Post> = self
            .owned(c, Kind::Post)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Post(p) => Some(p),
                _ => None,
            })
            .collect();
        Ok(connection(&posts, |p| (p.source, p.id), args, PostG))
    }
}

#[derive(Clone)]
pub struct PostG(pub catalog_domain::Post);

#[Object(name = "Post")]
impl PostG {
    async fn id(&self) -> ID {
        ID(format_id(self.0.source, self.0.id))
    }
    async fn source(&self) -> SourceG {
        self.0.source.into()
    }
    async fn user_id(&self) -> i32 {
        self.0.user_id as i32
    }
    async fn author(&self, c: &Context<'_>) -> async_graphql::Result<Option<UserG>> {
        user(ctx(c), self.0.user_id as i32).await
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn comments(
        &self,
        c: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<CommentG>> {
        let args = args(first, after)?;
        let comments: Vec<catalog_domain::Comment> =
            match Collection::find(self.0.source, Kind::Comment) {
                Some(col) => ctx(c)
                    .children(col, self.0.id)
                    .await?
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Comment(x) => Some(x),
                        _ => None,
                    })
                    .collect(),
                None => Vec::new(),
            };
        Ok(connection(&comments, |x| (x.source, x.id), args, CommentG))
    }
}

#[derive(Clone)]
pub struct CommentG(pub catalog_domain::Comment);

#[Object(name = "Comment")]
impl CommentG {
    async fn id(&self) -> ID {
        ID(format_id(self.0.source, self.0.id))
    }
    async fn post_id(&self) -> ID {
        ID(format_id(self.0.source, self.0.post_id))
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
}

#[derive(Clone)]
pub struct CartG(pub catalog_domain::Cart);

impl CartG {
    /// Each line with its product (if known) and unit price.
    async fn priced(&self, c: &Context<'_>) -> async_graphql::Result<Vec<CartLineG>> {
        let col = coll(self.0.source, Kind::Product);
        let loads = self
            .0
            .lines
            .iter()
            .map(|l| ctx(c).entity(col, l.product_id));
        let mut out = Vec::new();
        for (line, product) in self.0.lines.iter().zip(join_all(loads).await) {
            let product = match product? {
                Some(Record::Product(p)) => Some(p),
                _ => None,
            };
            let unit = match line.price {
                Some(own) => Some(own),
                None => product.as_ref().map(|p| p.price),
            };
            out.push(CartLineG {
                product,
                quantity: line.quantity,
                unit,
            });
        }
        Ok(out)
    }
}

#[Object(name = "Cart")]
impl CartG {
    async fn id(&self) -> ID {
        ID(format_id(self.0.source, self.0.id))
    }
    async fn user_id(&self) -> i32 {
        self.0.user_id as i32
    }
    async fn lines(&self, c: &Context<'_>) -> async_graphql::Result<Vec<CartLineG>> {
        self.priced(c).await
    }
    /// Σ lineTotal, exact; null if any line's is.
    async fn total(&self, c: &Context<'_>) -> async_graphql::Result<Option<Dec>> {
        let lines = self.priced(c).await?;
        let totals: Vec<Option<Decimal>> = lines
            .iter()
            .map(|l| cart::line_total(l.unit, l.quantity))
            .collect();
        Ok(cart::total(&totals).map(Dec))
    }
}

pub struct CartLineG {
    product: Option<catalog_domain::Product>,
    quantity: u32,
    unit: Option<Decimal>,
}

#[Object(name = "CartLine")]
impl CartLineG {
    async fn product(&self) -> Option<ProductG> {
        self.product.clone().map(ProductG)
    }
    async fn quantity(&self) -> i32 {
        self.quantity as i32
    }
    async fn unit_price(&self) -> Option<Dec> {
        self.unit.map(Dec)
    }
    async fn line_total(&self) -> Option<Dec> {
        cart::line_total(self.unit, self.quantity).map(Dec)
    }
}

#[derive(Clone)]
pub struct TodoG(pub catalog_domain::Todo);

#[Object(name = "Todo")]
impl TodoG {
    async fn id(&self) -> ID {
        ID(format_id(self.0.source, self.0.id))
    }
    async fn user_id(&self) -> i32 {
        self.0.user_id as i32
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn completed(&self) -> bool {
        self.0.completed
    }
}

#[derive(Clone)]
pub struct PhotoG(pub catalog_domain::Photo);

#[Object(name = "Photo")]
impl PhotoG {
    async fn id(&self) -> ID {
        ID(format_id(
            catalog_domain::Source::JsonPlaceholder,
            self.0.id,
        ))
    }
    async fn album_id(&self) -> ID {
        ID(format_id(
            catalog_domain::Source::JsonPlaceholder,
            self.0.album_id,
        ))
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
}

#[derive(Clone)]
pub struct AlbumG(pub catalog_domain::Album);

#[Object(name = "Album")]
impl AlbumG {
    async fn id(&self) -> ID {
        ID(format_id(
            catalog_domain::Source::JsonPlaceholder,
            self.0.id,
        ))
    }
    async fn user_id(&self) -> i32 {
        self.0.user_id as i32
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn photos(
        &self,
        c: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<PhotoG>> {
        let args = args(first, after)?;
        let col = coll(catalog_domain::Source::JsonPlaceholder, Kind::Photo);
        let photos: Vec<catalog_domain::Photo> = ctx(c)
            .children(col, self.0.id)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Photo(x) => Some(x),
                _ => None,
            })
            .collect();
        Ok(connection(
            &photos,
            |x| (catalog_domain::Source::JsonPlaceholder, x.id),
            args,
            PhotoG,
        ))
    }
}
