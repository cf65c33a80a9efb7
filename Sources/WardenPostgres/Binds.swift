import PostgresNIO

/// One parameter of a statement, typed, so a NULL has the column's type too.
enum Bind {
  case text(String?)
  case integer(Int64?)
  case texts([String])
}

/// The bindings of `values`, in order (`$1`, `$2`...).
func binds(_ values: Bind...) -> PostgresBindings {
  var bindings = PostgresBindings(capacity: values.count)
  for value in values {
    switch value {
    case .text(let text): bindings.append(text)
    case .integer(let number): bindings.append(number)
    case .texts(let texts): bindings.append(texts)
    }
  }
  return bindings
}
