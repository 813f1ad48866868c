//! Walking a `page`/`results` list as one stream of items.
//!
//! Every list operation of the API answers one page at a time, with the totals. The stream
//! asks for page 1, yields its items, and asks for the next page only when those are used up,
//! so memory stays at one page however long the list is. Each page's items are decoded as its
//! body arrives ([`read_page`]), so the body is never held whole next to the decoded page.
//!
//! A page is read to its end before its first item is yielded: a consumer that takes its time
//! over the items then holds no connection open, and cannot make the request time out.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use laserdata_core::paging::{Page, PagedRequest, read_page};

use crate::Error;

/// The most items a page's buffer is sized for up front; a larger page grows it as it arrives.
const PREALLOCATED_ITEMS: u64 = 1000;

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
            let answer = self.request.clone().at_page(page, self.page_size).send_page().await?;
            // The spent page's items are gone; its buffer, sized for a page, takes the next one
            // (the first page sizes it, so that it does not grow by doubling while it fills).
            self.buffered.reserve(self.page_size.get().min(PREALLOCATED_ITEMS) as usize);
            let envelope: R::Page = read_page(answer, &mut self.buffered).await?;
            // Stop at the last page the server reports, and also at an empty or short page, so
            // that a list shrinking while it is walked cannot make the stream loop forever.
            let received = self.buffered.len() as u64;
            let short = received < self.page_size.get();
            self.next_page =
                if page.get() >= envelope.total_pages() || received == 0 || short { None } else { page.checked_add(1) };
        }
    }
}
