//! Walking a `page`/`results` list as one stream of items.
//!
//! Every list operation of the API answers one page at a time, with the totals. The stream
//! asks for page 1, yields its items, and asks for the next page only when those are used up,
//! so memory stays at one page however long the list is.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use laserdata_core::paging::{Page, PagedRequest};

use crate::Error;

/// The page size streams use unless told otherwise: the largest the API allows, so a list
/// takes as few requests as possible.
pub const DEFAULT_PAGE_SIZE: NonZeroU64 = NonZeroU64::new(100).unwrap();

/// Adds [`stream`](PagedStream::stream) to the builder of every list operation.
///
/// ```no_run
/// # async fn demo(client: laserdata::Client) -> Result<(), laserdata::Error> {
/// use futures::TryStreamExt;
/// use laserdata::PagedStream;
///
/// let mut keys = client.main().get_api_keys().tenant_id(1042).stream();
/// while let Some(key) = keys.try_next().await? {
///     println!("{}", key.name);
/// }
/// # Ok(()) }
/// ```
pub trait PagedStream: PagedRequest + Sized {
    /// Every item of the list, fetched [`DEFAULT_PAGE_SIZE`] at a time.
    fn stream<'a>(self) -> Paged<'a, <Self::Page as Page>::Item>
    where
        Self: 'a,
        <Self::Page as Page>::Item: Send,
    {
        self.stream_pages_of(DEFAULT_PAGE_SIZE)
    }

    /// Every item of the list, fetched `page_size` at a time (the API allows 1 to 100).
    fn stream_pages_of<'a>(self, page_size: NonZeroU64) -> Paged<'a, <Self::Page as Page>::Item>
    where
        Self: 'a,
        <Self::Page as Page>::Item: Send,
    {
        let state = Walk { request: self, page_size, next_page: Some(NonZeroU64::MIN), buffered: VecDeque::new() };
        Paged { items: Box::pin(futures::stream::try_unfold(state, Walk::next_item)) }
    }
}

impl<R: PagedRequest> PagedStream for R {}

/// The items of a paged list, one page fetched at a time: a [`Stream`] of
/// `Result<T, Error>` that is `Unpin` and `Send`, so `try_next()`, `next()` and the other
/// stream adapters work on it as it is.
#[must_use = "a stream does nothing until it is polled"]
pub struct Paged<'a, T> {
    items: BoxStream<'a, Result<T, Error>>,
}

impl<T> Stream for Paged<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.items.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for Paged<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paged").finish_non_exhaustive()
    }
}

struct Walk<R: PagedRequest> {
    request: R,
    page_size: NonZeroU64,
    /// The page to fetch once `buffered` is empty; `None` after the last page.
    next_page: Option<NonZeroU64>,
    buffered: VecDeque<<R::Page as Page>::Item>,
}

impl<R: PagedRequest> Walk<R> {
    async fn next_item(mut self) -> Result<Option<(<R::Page as Page>::Item, Self)>, Error> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Ok(Some((item, self)));
            }
            let Some(page) = self.next_page else { return Ok(None) };
            // Free the spent page's buffer before the next one arrives, so that the two are
            // never allocated at once.
            self.buffered = VecDeque::new();
            let envelope = self.request.clone().at_page(page, self.page_size).send_page().await?.into_inner();
            let total_pages = envelope.total_pages();
            let items = envelope.into_items();
            // Stop at the last page the server reports, and also at an empty or short page, so
            // that a list shrinking while it is walked cannot make the stream loop forever.
            let short = (items.len() as u64) < self.page_size.get();
            self.next_page =
                if page.get() >= total_pages || items.is_empty() || short { None } else { page.checked_add(1) };
            self.buffered = items.into();
        }
    }
}
