// ESLint with neostandard: the style the code follows (no semicolons, 2-space indent, space
// before function parens), TypeScript-aware. `npm run lint`; `npm test` runs it first.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', '.local/**', 'walkthrough/**', 'bench/results/**'] }),
  {
    rules: {
      // `void reply.header(...)`: Fastify's reply methods return the reply (a thenable), and
      // void marks the result as deliberately unused; as an expression it stays an error
      'no-void': ['error', { allowAsStatement: true }],
      // TypeBox's idiom gives a schema and its type one name (`const Job = Type.Object(...)` and
      // `type Job = Static<typeof Job>`); TypeScript itself rejects real redeclarations
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
