//! SQL written once for both backends (`$N` placeholders, portable syntax), stamped onto
//! each backend type by the macros in these modules.

pub(crate) mod attachments;
pub(crate) mod campaigns;
pub(crate) mod conversations;
pub(crate) mod customer_queries;
pub(crate) mod customer_writes;
pub(crate) mod customers;
pub(crate) mod desk;
pub(crate) mod erasure;
pub(crate) mod events;
pub(crate) mod feedback;
pub(crate) mod jobs;
pub(crate) mod loyalty;
pub(crate) mod loyalty_post;
pub(crate) mod loyalty_rewards;
pub(crate) mod mail_references;
pub(crate) mod messengers;
pub(crate) mod orders;
pub(crate) mod personas;
pub(crate) mod segments;
pub(crate) mod surveys;
pub(crate) mod users;
