//! The lifecycle states of work nunchi tracks: background jobs, closed-loop follow-ups and
//! root-cause items. Stored as their names; reading any other name is an error.

crate::named_enum! {
    /// Where a background job stands.
    pub enum JobStatus("job status") {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

crate::named_enum! {
    /// A follow-up a closed-loop rule opened.
    pub enum FollowUpStatus("follow-up status") {
        Open = "open",
        Closed = "closed",
    }
}

crate::named_enum! {
    /// A root-cause item: open until the cause is fixed.
    pub enum RootCauseStatus("root-cause status") {
        Open = "open",
        Fixed = "fixed",
    }
}
