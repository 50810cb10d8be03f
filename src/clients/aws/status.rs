//! The statuses AWS reports, as enums: compared by variant, never by spelling.
//! A value this provider does not know (AWS adds some over time) is kept as
//! `Other` with AWS's words, so it still reaches messages and state unchanged.

/// Declares a status enum with its AWS spellings.
macro_rules! aws_status {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(#[doc = $text] $variant,)+
            /// A status this provider does not know, or none ("").
            Other(String),
        }

        impl $name {
            /// AWS's spelling.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::Other(String::new())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

aws_status!(
    /// A StackSet's status.
    StackSetStatus { Active = "ACTIVE", Deleted = "DELETED" }
);

aws_status!(
    /// A stack instance's status.
    InstanceStatus { Current = "CURRENT", Outdated = "OUTDATED", Inoperable = "INOPERABLE" }
);

aws_status!(
    /// A stack instance's detailed status.
    InstanceDetail {
        Pending = "PENDING",
        Running = "RUNNING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
        Inoperable = "INOPERABLE",
        SkippedSuspendedAccount = "SKIPPED_SUSPENDED_ACCOUNT",
        FailedImport = "FAILED_IMPORT",
    }
);

aws_status!(
    /// A StackSet operation's status.
    OperationStatus { Queued = "QUEUED", Running = "RUNNING", Succeeded = "SUCCEEDED", Failed = "FAILED", Stopping = "STOPPING", Stopped = "STOPPED" }
);

aws_status!(
    /// One account's result within an operation.
    ResultStatus { Pending = "PENDING", Running = "RUNNING", Succeeded = "SUCCEEDED", Failed = "FAILED", Cancelled = "CANCELLED" }
);

aws_status!(
    /// An organization member account's state.
    AccountStatus { Active = "ACTIVE", Suspended = "SUSPENDED", PendingClosure = "PENDING_CLOSURE" }
);

aws_status!(
    /// A plain stack's status (the management account's stack).
    StackStatus {
        CreateInProgress = "CREATE_IN_PROGRESS",
        CreateComplete = "CREATE_COMPLETE",
        CreateFailed = "CREATE_FAILED",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackComplete = "ROLLBACK_COMPLETE",
        RollbackFailed = "ROLLBACK_FAILED",
        UpdateInProgress = "UPDATE_IN_PROGRESS",
        UpdateComplete = "UPDATE_COMPLETE",
        UpdateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE",
        UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED",
        DeleteInProgress = "DELETE_IN_PROGRESS",
        DeleteComplete = "DELETE_COMPLETE",
        DeleteFailed = "DELETE_FAILED",
    }
);

impl StackStatus {
    /// Still changing: wait before acting on it.
    #[must_use]
    pub fn is_in_progress(&self) -> bool {
        self.as_str().ends_with("_IN_PROGRESS")
    }

    /// Deployed, with the last requested definition in place (an update that rolled
    /// back is not: it runs the previous one).
    #[must_use]
    pub fn is_deployed(&self) -> bool {
        matches!(self, StackStatus::CreateComplete | StackStatus::UpdateComplete)
    }

    /// Can take an `UpdateStack`.
    #[must_use]
    pub fn is_updatable(&self) -> bool {
        matches!(self, StackStatus::CreateComplete | StackStatus::UpdateComplete | StackStatus::UpdateRollbackComplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_unknown_ones_are_kept() {
        for s in ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "STOPPING", "STOPPED"] {
            assert_eq!(OperationStatus::from(s).as_str(), s);
            assert!(!matches!(OperationStatus::from(s), OperationStatus::Other(_)));
        }
        assert_eq!(InstanceDetail::from("SKIPPED_SUSPENDED_ACCOUNT"), InstanceDetail::SkippedSuspendedAccount);
        assert_eq!(ResultStatus::from("NEW_IN_2030"), ResultStatus::Other("NEW_IN_2030".into()));
        assert_eq!(ResultStatus::from("NEW_IN_2030").to_string(), "NEW_IN_2030");
        assert_eq!(InstanceDetail::default().as_str(), "");
    }
}
