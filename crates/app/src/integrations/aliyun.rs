//! Alibaba Cloud SMS (Dysmsapi SendSms) provider.
