//! sea-orm entities for the catalog tables. Nothing outside `store/` sees these types.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub parent_id: Option<Uuid>,
        pub name: String,
        pub slug: String,
        pub description: String,
        pub show_on_home: bool,
        pub position: i32,
        pub deleted_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }
    no_relations!();
}

pub mod product {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub description: String,
        pub price: i64,
        pub currency: String,
        pub weight_grams: i64,
        pub length_mm: i64,
        pub width_mm: i64,
        pub height_mm: i64,
        pub active: bool,
        pub on_hand: i64,
        pub reserved: i64,
        pub stock_version: i64,
        pub units_sold: i64,
        pub rating_count: i64,
        pub rating_sum: i64,
        pub rating_avg_milli: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }
    no_relations!();
}

pub mod product_category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "product_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category_id: Uuid,
    }
    no_relations!();
}
