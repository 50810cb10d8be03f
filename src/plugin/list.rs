//! List resources (protocol 6.10, Terraform 1.14+): what `list` blocks in a
//! `.tfquery.hcl` file ask for, and what `terraform query` shows and turns into
//! `import` blocks with `-generate-config-out`.
//!
//! A list resource has the type name of the managed resource it finds, its own
//! schema (the `config { … }` block of a `list` block: the filters), and streams one
//! result per remote object. Each result is the state the managed resource's import
//! and read would produce: the core derives the identity Terraform writes into the
//! generated `import` block from it with the managed resource's own
//! [`Resource::identity`](super::Resource::identity), and sends the state as the
//! resource object only when Terraform asks for it. Clients without `terraform
//! query` never call these RPCs, so a provider with list resources works with them
//! unchanged.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diagnostics::Diagnostics;
use super::resource::CallCtx;
use super::schema::Schema;
use super::value::Value;

/// One remote object found by a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// What `terraform query` prints for it.
    pub display_name: String,
    /// The managed resource's state for it, as import and read would produce it.
    pub state: Value,
}

/// One item of a list's stream, before the core adds identity and limits.
#[derive(Debug, Clone, PartialEq)]
pub enum ListItem {
    /// A result.
    Found(Listed),
    /// Problems met on the way (a warning about one object, or the error that ends
    /// the list).
    Diagnostics(Diagnostics),
}

/// Where a list sends its results, in the order found.
#[derive(Debug)]
pub struct ListOut {
    tx: mpsc::Sender<ListItem>,
}

impl ListOut {
    /// A sink feeding `tx`.
    pub(crate) fn new(tx: mpsc::Sender<ListItem>) -> Self {
        ListOut { tx }
    }

    /// Sends one result; `false` means nobody wants more (the limit was reached, or
    /// Terraform went away) and the list should stop.
    pub async fn found(&self, listed: Listed) -> bool {
        self.tx.send(ListItem::Found(listed)).await.is_ok()
    }

    /// Sends diagnostics about one object without ending the list.
    pub async fn diagnostics(&self, diags: Diagnostics) -> bool {
        diags.is_empty() || self.tx.send(ListItem::Diagnostics(diags)).await.is_ok()
    }
}

/// What a list is asked.
#[derive(Debug)]
pub struct ListRequest<'a> {
    /// The `config { … }` block (every attribute present, null when not written).
    pub config: &'a Value,
    /// Whether Terraform wants the full state of each result; a list may skip work
    /// that only the state needs when it does not.
    pub include_resource_object: bool,
}

/// A list resource type.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The managed resource type it lists, e.g. `datadog_aws_account_link`.
    fn type_name(&self) -> &'static str;

    /// The schema of the `config { … }` block.
    fn schema(&self) -> &Schema;

    /// Checks the filters without remote calls.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Finds the objects and sends each to `out`, stopping when `out` says so or
    /// `ctx` is cancelled. An error that ends the list goes to `diags`.
    async fn list(&self, ctx: &CallCtx, req: ListRequest<'_>, out: &ListOut, diags: &mut Diagnostics);
}
