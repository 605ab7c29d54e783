-- Where a lead came from outside Zhengfeng (hotline order, Open311 request, inspection finding,
-- import row): catalogue.OriginData, null for leads entered in Zhengfeng itself.
ALTER TABLE cases ADD COLUMN origin jsonb;
