-- Why a dismissal is to be re-checked (查否复查): `draw` (the random draw picked it) or `chosen` (the office
-- chose it, case.recheck_chosen). Cases dismissed before this column are filled by a rebuild; until then
-- recheck_selected still tells the draw's result.
ALTER TABLE cases ADD COLUMN recheck_basis text;
