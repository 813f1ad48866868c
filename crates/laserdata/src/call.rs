//! Turning a generated call's result into one with [`Error`](crate::Error).

use std::future::Future;

use laserdata_core::hooks::capture_response_meta;
use progenitor_client::{ByteStream, ResponseValue};

use crate::Error;

/// Adds [`typed_errors`](TypedErrors::typed_errors) to every generated `send()`.
///
/// ```no_run
/// # async fn demo(client: laserdata::Client) -> Result<(), laserdata::Error> {
/// use laserdata::TypedErrors;
///
/// let context = client.main().get_api_key_context().tenant_id(1042).send().typed_errors().await?;
/// println!("this key acts as role {}", *context.role_name);
/// # Ok(()) }
/// ```
pub trait TypedErrors<T>:
    Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>> + Sized
{
    /// The same call, failing with [`Error`], which decodes the problem body and keeps the
    /// status, `ld-request` id and `retry-after` of the answer.
    fn typed_errors(self) -> impl Future<Output = Result<ResponseValue<T>, Error>> {
        async move {
            match capture_response_meta(self).await {
                (Ok(response), _) => Ok(response),
                (Err(error), meta) => Err(Error::from_progenitor(error, meta).await),
            }
        }
    }
}

impl<T, F> TypedErrors<T> for F where F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>> {}
