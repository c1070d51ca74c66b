// CI's doc check: every public export of every public package has a doc
// comment. "Public export" is what a package's package.json "exports" offers
// (TypeDoc reads the entry points from there, as for docs/api): its classes,
// interfaces, type aliases, variables and functions (each signature of a
// function). Their members are not required, though they are documented where
// it helps. Run after `pnpm build`:  pnpm --filter @tx/docs check
import { Application, ReflectionKind, TSConfigReader, TypeDocReader } from 'typedoc';

const REQUIRED = ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.TypeAlias | ReflectionKind.Variable | ReflectionKind.Enum | ReflectionKind.Namespace | ReflectionKind.Function;

const app = await Application.bootstrapWithPlugins({ logLevel: 'Warn' }, [new TypeDocReader(), new TSConfigReader()]);
// Sources on, so that each missing comment can be named with its file.
app.options.setValue('packageOptions', { ...app.options.getValue('packageOptions'), disableSources: false, sourceLinkTemplate: '{path}#L{line}' });
const project = await app.convert();
if (!project) {
  console.error('docs: TypeDoc could not convert the packages (see the errors above)');
  process.exit(1);
}

const missing = [];
let checked = 0;
const documented = (r) => {
  if (r.kindOf(ReflectionKind.Function)) return (r.signatures ?? []).length > 0 && r.signatures.every((s) => s.hasComment() || r.hasComment());
  return r.hasComment();
};
/** A package's modules: the package itself (one entry point) or its entry points. */
for (const pkg of project.children ?? []) {
  const modules = (pkg.children ?? []).some((c) => c.kindOf(ReflectionKind.Module)) ? pkg.children.filter((c) => c.kindOf(ReflectionKind.Module)) : [pkg];
  for (const mod of modules) {
    const entry = mod === pkg || mod.name === '' || mod.name === 'index' ? pkg.name : `${pkg.name}/${mod.name}`;
    for (const r of mod.children ?? []) {
      if (!r.kindOf(REQUIRED)) continue;
      checked++;
      if (!documented(r)) missing.push(`${entry}: ${r.name} (${ReflectionKind.singularString(r.kind).toLowerCase()}, ${r.sources?.[0]?.fileName ?? 'source unknown'})`);
    }
  }
}
if (missing.length > 0) {
  console.error(`docs: ${missing.length} of ${checked} public exports have no doc comment (/** ... */ right above the declaration):`);
  for (const m of missing.sort()) console.error(`  ${m}`);
  process.exit(1);
}
console.log(`docs: all ${checked} public exports of ${project.children?.length ?? 0} packages have a doc comment`);
