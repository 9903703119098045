Console.WriteLine("aiops");
