//! The Alibaba Cloud SMS provider against the local fake.
