//! Stored files: what an upload is for, and what an attachment belongs to.

use crate::stored::stored_enum;

stored_enum! {
    /// What a stored file is for.
    pub enum FilePurpose in ["files.purpose"] {
        Licence = "licence" => "营业执照",
        InstitutionLicence = "institution_licence" => "机构营业执照",
        DemandAttachment = "demand_attachment" => "需求附件",
        DemandProof = "demand_proof" => "交付证明",
        ProductAttachment = "product_attachment" => "产品附件",
        PolicyAttachment = "policy_attachment" => "政策附件",
    }
}

stored_enum! {
    /// What an attachment belongs to.
    pub enum AttachmentOwnerKind in ["attachments.owner_kind"] {
        Product = "product" => "服务产品",
        Policy = "policy" => "政策",
    }
}

impl AttachmentOwnerKind {
    /// The purpose its files are stored with.
    pub fn file_purpose(self) -> FilePurpose {
        match self {
            AttachmentOwnerKind::Product => FilePurpose::ProductAttachment,
            AttachmentOwnerKind::Policy => FilePurpose::PolicyAttachment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in FilePurpose::ALL {
            assert_eq!(FilePurpose::parse(p.code()), Some(p));
        }
        for k in AttachmentOwnerKind::ALL {
            assert_eq!(AttachmentOwnerKind::parse(k.code()), Some(k));
            assert_eq!(k.file_purpose().code(), format!("{}_attachment", k.code()));
        }
    }
}
