using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Onnx;

/// <summary>Writes the ONNX nodes for one TorchSharp module type (one class per type).</summary>
internal interface IModuleEmitter
{
    Type ModuleType { get; }

    string Emit(OnnxGraphBuilder g, Module module, string input);
}

/// <summary>Base for an emitter of built-in TorchSharp modules of type <typeparamref name="T"/>.
/// A new layer type needs only a new subclass: the registry finds it by reflection.</summary>
internal abstract class ModuleEmitter<T> : IModuleEmitter
    where T : Module
{
    public Type ModuleType => typeof(T);

    public string Emit(OnnxGraphBuilder g, Module module, string input) => Emit(g, (T)module, input);

    protected abstract string Emit(OnnxGraphBuilder g, T module, string input);
}

/// <summary>Every <see cref="IModuleEmitter"/> in this assembly, by module type.</summary>
internal static class ModuleEmitters
{
    private static readonly Dictionary<Type, IModuleEmitter> s_byType = typeof(ModuleEmitters).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(IModuleEmitter).IsAssignableFrom(t))
        .Select(t => (IModuleEmitter)Activator.CreateInstance(t)!)
        .ToDictionary(e => e.ModuleType);

    /// <summary>The emitter for <paramref name="moduleType"/> or its nearest base type; null if none.</summary>
    public static IModuleEmitter? Find(Type moduleType)
    {
        for (Type? t = moduleType; t != null; t = t.BaseType)
        {
            if (s_byType.TryGetValue(t, out IModuleEmitter? emitter))
            {
                return emitter;
            }
        }

        return null;
    }

    /// <summary>The module types that can be exported, for messages and docs.</summary>
    public static IEnumerable<string> SupportedTypes => s_byType.Keys.Select(t => t.Name).Order(StringComparer.Ordinal);
}
